package io.hayloft.volume;

import io.hayloft.volume.compaction.CompactionMarker;
import io.hayloft.volume.io.Directories;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All the volumes of one data directory, opened together at start.
 *
 * <p>Opening runs the recovery of every volume ({@link Volume#open}) on a few threads at once; a
 * volume that cannot be opened (an unreadable superblock) is reported in {@link #failures()} and
 * left on disk for an operator, while the others serve. {@link #compactDue()} compacts the volumes
 * whose garbage has passed {@link VolumeConfig#compactionGarbageRatio()}, and
 * {@link #scheduleCompaction} runs it on a timer of the caller's executor.
 */
public final class VolumeSet implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VolumeSet.class);
    private static final int OPEN_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

    private final Path dir;
    private final VolumeConfig config;
    private final ConcurrentMap<Integer, Volume> volumes = new ConcurrentHashMap<>();
    private final Map<Integer, VolumeException> failures = new TreeMap<>();

    private VolumeSet(Path dir, VolumeConfig config) {
        this.dir = dir;
        this.config = config;
    }

    /** Opens every volume in {@code dir}, creating the directory when it does not exist. */
    public static VolumeSet open(Path dir, VolumeConfig config) throws VolumeException {
        VolumeSet set = new VolumeSet(dir, config);
        try {
            Files.createDirectories(dir);
            set.openAll(set.volumeIdsOnDisk());
        } catch (IOException e) {
            throw VolumeException.fromIo("open data directory " + dir, e);
        }
        return set;
    }

    private List<Integer> volumeIdsOnDisk() throws IOException {
        List<Integer> ids = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(".dat.new")) {
                    // A creation that crashed before its rename: nothing was ever written to it.
                    Files.delete(f);
                    continue;
                }
                if (name.endsWith(".dat")) {
                    String id = name.substring(0, name.length() - 4);
                    if (id.matches("[1-9][0-9]{0,9}") && Long.parseLong(id) <= Integer.MAX_VALUE) {
                        ids.add(Integer.parseInt(id));
                    } else {
                        log.warn("{}: {} is not a volume file; left alone", dir, name);
                    }
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    private void openAll(List<Integer> ids) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(OPEN_THREADS);
        try {
            List<Future<Volume>> opening = new ArrayList<>();
            for (int id : ids) {
                opening.add(pool.submit(() -> Volume.open(dir, id, config)));
            }
            for (int i = 0; i < ids.size(); i++) {
                try {
                    Volume v = opening.get(i).get();
                    volumes.put(v.id(), v);
                } catch (java.util.concurrent.ExecutionException e) {
                    VolumeException failure = e.getCause() instanceof VolumeException ve
                            ? ve
                            : new VolumeException(VolumeErrorCode.IO_ERROR, "open volume " + ids.get(i), e.getCause());
                    failures.put(ids.get(i), failure);
                    log.error("volume {} in {} could not be opened and is left alone: {}", ids.get(i), dir,
                            failure.getMessage());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening volumes", e);
        } finally {
            pool.shutdown();
        }
    }

    public Path directory() {
        return dir;
    }

    /** The configuration every volume of the set runs with. */
    public VolumeConfig config() {
        return config;
    }

    /** Creates and opens a new volume. */
    public Volume create(int volumeId, long salt) throws VolumeException {
        synchronized (failures) {
            if (volumes.containsKey(volumeId) || failures.containsKey(volumeId)) {
                throw new VolumeException(VolumeErrorCode.VOLUME_EXISTS, "volume " + volumeId + " exists in " + dir);
            }
            Volume v = Volume.create(dir, volumeId, salt, config);
            volumes.put(volumeId, v);
            return v;
        }
    }

    /**
     * Closes a volume and deletes its files: its {@code .dat} first, so that a crash part way
     * leaves no volume behind (only files that the next creation of the id replaces). Also drops
     * a volume that could not be opened. A volume that does not exist is no error.
     */
    public void drop(int volumeId) throws VolumeException {
        synchronized (failures) {
            Volume v = volumes.remove(volumeId);
            failures.remove(volumeId);
            if (v != null) {
                try {
                    v.close();
                } catch (VolumeException e) {
                    log.warn("volume {} failed to close before it is dropped: {}", volumeId, e.getMessage());
                }
            }
            try {
                Files.deleteIfExists(VolumeLoader.datPath(dir, volumeId));
                Directories.fsync(dir);
                Files.deleteIfExists(VolumeLoader.idxPath(dir, volumeId));
                Files.deleteIfExists(CompactionMarker.markerPath(dir, volumeId));
                Files.deleteIfExists(CompactionMarker.newDataPath(dir, volumeId));
                Files.deleteIfExists(CompactionMarker.newIndexPath(dir, volumeId));
                Directories.fsync(dir);
            } catch (IOException e) {
                throw VolumeException.fromIo("drop volume " + volumeId + " in " + dir, e);
            }
        }
    }

    public Volume get(int volumeId) throws VolumeException {
        Volume v = volumes.get(volumeId);
        if (v == null) {
            throw new VolumeException(VolumeErrorCode.NO_SUCH_VOLUME, "no volume " + volumeId + " in " + dir);
        }
        return v;
    }

    public Collection<Volume> volumes() {
        return List.copyOf(volumes.values());
    }

    /** The volumes that could not be opened, by id. */
    public Map<Integer, VolumeException> failures() {
        synchronized (failures) {
            return Map.copyOf(failures);
        }
    }

    /** Compacts every volume whose garbage passed the configured ratio; returns their ids. */
    public List<Integer> compactDue() {
        List<Integer> compacted = new ArrayList<>();
        for (Volume v : volumes()) {
            if (!v.needsCompaction()) {
                continue;
            }
            try {
                v.compact();
                compacted.add(v.id());
            } catch (VolumeException e) {
                if (e.code() != VolumeErrorCode.COMPACTION_RUNNING && e.code() != VolumeErrorCode.CLOSED) {
                    log.warn("compaction of volume {} failed: {}", v.id(), e.getMessage());
                }
            } catch (RuntimeException e) {
                // A bug in one volume's compaction must not stop the timer for all the others.
                log.error("compaction of volume {} failed", v.id(), e);
            }
        }
        return compacted;
    }

    /**
     * Runs {@link #compactDue()} on the given executor every {@code interval}; cancel the
     * returned future to stop.
     */
    public ScheduledFuture<?> scheduleCompaction(ScheduledExecutorService executor, Duration interval) {
        long ms = Math.max(1, interval.toMillis());
        return executor.scheduleWithFixedDelay(this::compactDue, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws VolumeException {
        VolumeException first = null;
        for (Volume v : volumes()) {
            try {
                v.close();
            } catch (VolumeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        volumes.clear();
        if (first != null) {
            throw first;
        }
    }
}

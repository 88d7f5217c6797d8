package io.hayloft.store;

import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.volume.io.Directories;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica set of each volume of a data directory, as meta gave it at creation: on disk in
 * {@code N.replicas} ({@link ReplicaSetFile}) and in memory.
 *
 * <p>Implementation notes. A file is replaced atomically (temporary file, fsync, rename, directory
 * fsync) and written before the volume it describes is created, so a volume never exists without
 * its replica set; a set whose volume was never created (a crash in between) is harmless, and the
 * retried creation overwrites it. A file that cannot be read leaves its volume without a replica
 * set, which refuses client writes: guessing would risk acknowledging writes no secondary holds.
 */
final class ReplicaSets {
    private static final Logger log = LoggerFactory.getLogger(ReplicaSets.class);
    static final String SUFFIX = ".replicas";
    /** Far above any replication factor meta allows. */
    static final int REPLICAS_MAX = 16;

    private final Path dir;
    private final ConcurrentMap<Integer, CreateVolumeRequest> sets = new ConcurrentHashMap<>();

    private ReplicaSets(Path dir) {
        this.dir = dir;
    }

    /** Reads every replica set file of {@code dir}; deletes leftovers of writes that crashed. */
    static ReplicaSets load(Path dir) throws IOException {
        ReplicaSets loaded = new ReplicaSets(dir);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX + "*")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(SUFFIX + ".tmp")) {
                    // A replacement that crashed before its rename: the file it was to replace is intact.
                    Files.delete(f);
                } else if (name.endsWith(SUFFIX)) {
                    loaded.loadFile(f, name.substring(0, name.length() - SUFFIX.length()));
                }
            }
        }
        return loaded;
    }

    private void loadFile(Path f, String id) throws IOException {
        if (!id.matches("[1-9][0-9]{0,9}") || Long.parseLong(id) > Integer.MAX_VALUE) {
            log.warn("{}: {} is not a replica set file; left alone", dir, f.getFileName());
            return;
        }
        int volumeId = Integer.parseInt(id);
        try {
            if (Files.size(f) > ReplicaSetFile.FILE_BYTES_MAX) {
                throw new IOException("replica set file of volume " + volumeId + " is too large");
            }
            sets.put(volumeId, ReplicaSetFile.decode(volumeId, Files.readAllBytes(f)));
        } catch (IOException e) {
            log.error("{}: volume {} has no usable replica set and takes no client writes until meta creates it "
                    + "again: {}", dir, volumeId, e.getMessage());
        }
    }

    static Path path(Path dir, int volumeId) {
        return dir.resolve(volumeId + SUFFIX);
    }

    /** The creation request of the volume, with its replicas, when this store has a usable one. */
    Optional<CreateVolumeRequest> get(int volumeId) {
        return Optional.ofNullable(sets.get(volumeId));
    }

    /** Keeps the volume's replica set durably, replacing any earlier one. */
    void put(CreateVolumeRequest request) throws IOException {
        Directories.writeAtomically(path(dir, request.getVolumeId()), ReplicaSetFile.encode(request));
        sets.put(request.getVolumeId(), request);
    }

    /** Forgets a replica set whose volume could not be created. */
    void remove(int volumeId) throws IOException {
        sets.remove(volumeId);
        Files.deleteIfExists(path(dir, volumeId));
        Directories.fsync(dir);
    }

    /**
     * Checks a creation request from meta and keeps of it only what lasts: the volume id, the salt,
     * and each replica's id, address and rack (not its free space of the moment).
     *
     * @throws IllegalArgumentException when the request is malformed or leaves this store out
     */
    static CreateVolumeRequest normalize(CreateVolumeRequest request, String storeId) {
        if (request.getVolumeId() <= 0) {
            throw new IllegalArgumentException("volume id must be in [1, 2^31 - 1], got "
                    + Integer.toUnsignedString(request.getVolumeId()));
        }
        List<StoreInfo> replicas = request.getReplicasList();
        if (replicas.size() > REPLICAS_MAX) {
            throw new IllegalArgumentException(replicas.size() + " replicas, more than " + REPLICAS_MAX);
        }
        CreateVolumeRequest.Builder kept = CreateVolumeRequest.newBuilder().setVolumeId(request.getVolumeId())
                .setSalt(request.getSalt());
        Set<String> ids = new HashSet<>();
        for (StoreInfo r : replicas) {
            if (r.getStoreId().isEmpty() || !ids.add(r.getStoreId())) {
                throw new IllegalArgumentException("replica store ids must be present and distinct: " + idsOf(request));
            }
            if (replicas.size() > 1) {
                PeerChannels.parseAddress(r.getAddress());
            }
            kept.addReplicas(StoreInfo.newBuilder().setStoreId(r.getStoreId()).setAddress(r.getAddress())
                    .setRack(r.getRack()));
        }
        if (!replicas.isEmpty() && !ids.contains(storeId)) {
            throw new IllegalArgumentException("the replicas " + idsOf(request) + " of volume " + request.getVolumeId()
                    + " do not include this store, " + storeId);
        }
        return kept.build();
    }

    /**
     * Whether a creation request asks for the volume already created by {@code existing}: the same
     * salt and the same stores in the same order. Addresses may differ (a store moved).
     */
    static boolean sameVolume(CreateVolumeRequest existing, CreateVolumeRequest asked) {
        return existing.getSalt() == asked.getSalt() && idsOf(existing).equals(idsOf(asked));
    }

    static List<String> idsOf(CreateVolumeRequest request) {
        return request.getReplicasList().stream().map(StoreInfo::getStoreId).toList();
    }
}

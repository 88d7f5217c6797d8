package io.hayloft.it;

import io.hayloft.it.ProcessCluster.Node;
import io.hayloft.volume.format.NeedleFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Injects faults into a {@link ProcessCluster} while the workload runs, one at a time, each undone
 * before the next (corruption excepted: the store must repair it). A schedule starts with every
 * kind once, in a random order, then picks kinds at random until its time is up.
 */
final class Nemesis {
    enum Kind {
        /** SIGKILL a store, restart it a few seconds later (sometimes after it was declared dead). */
        KILL_STORE,
        /** SIGKILL the meta leader, restart it. */
        KILL_META_LEADER,
        /** SIGSTOP a process of any role, SIGCONT it. */
        PAUSE,
        /** Nobody reaches a store: its inbound link is a black hole. */
        CUT_STORE,
        /** A store (or a gateway) cannot reach any meta peer. */
        CUT_FROM_META,
        /** A store's files cannot grow: appends fail as on a full disk. */
        DISK_FULL,
        /** Flip bytes at random places of a store's volume file. */
        CORRUPT
    }

    record Fault(Kind kind, String target, long startNanos, long endNanos) {}

    private final ProcessCluster cluster;
    private final SplittableRandom random;
    private final List<Fault> faults = Collections.synchronizedList(new ArrayList<>());
    private final StringBuilder log = new StringBuilder();
    private final long origin = System.nanoTime();

    Nemesis(ProcessCluster cluster, long seed) {
        this.cluster = cluster;
        this.random = new SplittableRandom(seed);
    }

    /** Runs faults until {@code nanos} have passed, and leaves every process running and reachable. */
    void run(long nanos) throws Exception {
        long deadline = System.nanoTime() + nanos;
        List<Kind> kinds = new ArrayList<>(List.of(Kind.values()));
        if (!canLimitFileSizes()) {
            kinds.remove(Kind.DISK_FULL);
            synchronized (log) {
                log.append("no prlimit on this machine: no full disks\n");
            }
        }
        List<Kind> first = new ArrayList<>(kinds);
        Collections.shuffle(first, new java.util.Random(random.nextLong()));
        while (System.nanoTime() - deadline < 0 || !first.isEmpty()) {
            Kind kind = first.isEmpty() ? kinds.get(random.nextInt(kinds.size())) : first.remove(0);
            inject(kind);
            Thread.sleep(500 + random.nextInt(1_500));
        }
    }

    private void inject(Kind kind) throws Exception {
        long start = System.nanoTime();
        String target;
        switch (kind) {
            case KILL_STORE -> {
                Node s = pick(cluster.stores());
                target = s.name;
                cluster.kill(s);
                Thread.sleep(1_000 + random.nextInt(6_000));
                cluster.start(s);
            }
            case KILL_META_LEADER -> {
                Node leader = cluster.metaLeader().orElse(pick(cluster.metas()));
                target = leader.name;
                cluster.kill(leader);
                Thread.sleep(1_000 + random.nextInt(3_000));
                cluster.start(leader);
            }
            case PAUSE -> {
                Node n = pick(cluster.all());
                target = n.name;
                cluster.pause(n);
                try {
                    Thread.sleep(1_000 + random.nextInt(4_000));
                } finally {
                    cluster.resume(n);
                }
            }
            case CUT_STORE -> {
                Node s = pick(cluster.stores());
                target = s.name;
                FaultProxy inbound = cluster.inboundOf(s);
                inbound.cut();
                try {
                    Thread.sleep(2_000 + random.nextInt(5_000));
                } finally {
                    inbound.heal();
                }
            }
            case CUT_FROM_META -> {
                List<Node> callers = new ArrayList<>(cluster.stores());
                callers.addAll(cluster.gateways());
                Node n = pick(callers);
                target = n.name;
                List<FaultProxy> links = cluster.metaLinksOf(n);
                links.forEach(FaultProxy::cut);
                try {
                    Thread.sleep(2_000 + random.nextInt(5_000));
                } finally {
                    links.forEach(FaultProxy::heal);
                }
            }
            case DISK_FULL -> {
                Node s = pick(storesWithVolumes());
                long largest = volumeFiles(s).stream().mapToLong(Nemesis::size).max().orElse(0);
                target = s.name + " (files capped at " + (largest + 4096) + " bytes)";
                cluster.limitFileSize(s, largest + 4096);
                try {
                    Thread.sleep(3_000 + random.nextInt(5_000));
                } finally {
                    cluster.unlimitFileSize(s);
                }
            }
            case CORRUPT -> {
                Node s = pick(storesWithVolumes());
                target = s.name + " " + corrupt(s);
            }
            default -> throw new IllegalStateException();
        }
        long end = System.nanoTime();
        faults.add(new Fault(kind, target, start, end));
        synchronized (log) {
            log.append(String.format("%7.1f s  %-16s %s (%.1f s)%n", (start - origin) / 1e9, kind, target, (end - start) / 1e9));
        }
    }

    /** Flips a byte at 1 to 3 random places past the superblock of one of the store's volume files. */
    private String corrupt(Node store) throws IOException {
        List<Path> files = volumeFiles(store).stream().filter(f -> size(f) > 4096).toList();
        if (files.isEmpty()) {
            return "(no volume file to corrupt yet)";
        }
        Path file = files.get(random.nextInt(files.size()));
        List<Long> offsets = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                long offset = NeedleFormat.SUPERBLOCK_BYTES
                        + random.nextLong(ch.size() - NeedleFormat.SUPERBLOCK_BYTES);
                ByteBuffer b = ByteBuffer.allocate(1);
                ch.read(b, offset);
                b.put(0, (byte) (b.get(0) ^ (1 + random.nextInt(255))));
                b.rewind();
                ch.write(b, offset);
                offsets.add(offset);
            }
        }
        return file.getFileName() + " at " + offsets;
    }

    /** The stores holding volume files (with five stores and three replicas, some may hold none yet). */
    private List<Node> storesWithVolumes() {
        List<Node> with = cluster.stores().stream().filter(s -> !volumeFiles(s).isEmpty()).toList();
        return with.isEmpty() ? cluster.stores() : with;
    }

    private List<Path> volumeFiles(Node store) {
        Path dir = cluster.dataDir(store);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".dat")).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();  // a compaction renamed files under us: nothing this time
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean canLimitFileSizes() {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "prlimit")));
    }

    private <T> T pick(List<T> from) {
        return from.get(random.nextInt(from.size()));
    }

    List<Fault> faults() {
        return faults;
    }

    Map<Kind, Integer> countsByKind() {
        Map<Kind, Integer> counts = new TreeMap<>();
        for (Fault f : faults) {
            counts.merge(f.kind(), 1, Integer::sum);
        }
        return counts;
    }

    String log() {
        synchronized (log) {
            return log.toString();
        }
    }
}

package io.hayloft.bench.cluster;

import io.hayloft.client.HayloftClient;
import io.hayloft.cluster.LocalCluster;
import io.hayloft.proto.v1.Fid;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Blobs written and read per second through the client library against a cluster in this
 * process: 3 meta peers, 3 stores, rf 3, fsynced volumes, all on loopback. C concurrent callers,
 * each waiting for its answer before the next call. Writes go to a volume's primary, which
 * forwards to both secondaries; reads go to one replica each.
 *
 * <p>Run: {@code java -cp hayloft-bench/target/benchmarks.jar io.hayloft.bench.cluster.BlobThroughput
 * [callers] [seconds] [bytes]}; {@code -Dhayloft.bench.dir=DIR} puts the cluster's files under DIR.
 */
public final class BlobThroughput {
    private BlobThroughput() {}

    public static void main(String[] args) throws Exception {
        int callers = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int bytes = args.length > 2 ? Integer.parseInt(args[2]) : 4096;
        String base = System.getProperty("hayloft.bench.dir");
        Path dir = base == null ? Files.createTempDirectory("hayloft-cluster-bench")
                : Files.createTempDirectory(Files.createDirectories(Path.of(base)), "cluster");
        try (LocalCluster cluster = LocalCluster.start(dir, LocalCluster.Options.defaults());
                HayloftClient client = cluster.client()) {
            ConcurrentLinkedQueue<Fid> written = new ConcurrentLinkedQueue<>();
            byte[] data = new byte[bytes];
            ThreadLocalRandom.current().nextBytes(data);
            run(callers, 2, () -> written.add(client.write(data)));
            long warm = written.size();
            long start = System.nanoTime();
            run(callers, seconds, () -> written.add(client.write(data)));
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            long writes = written.size() - warm;
            List<Fid> fids = new ArrayList<>(written);
            AtomicLong reads = new AtomicLong();
            run(callers, 2, () -> client.read(fids.get(ThreadLocalRandom.current().nextInt(fids.size()))));
            start = System.nanoTime();
            run(callers, seconds, () -> {
                client.read(fids.get(ThreadLocalRandom.current().nextInt(fids.size())));
                reads.incrementAndGet();
            });
            double readSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("callers=%d bytes=%d blob writes/s=%.0f blob reads/s=%.0f assignments=%d%n", callers,
                    bytes, writes / writeSeconds, reads.get() / readSeconds, client.assignments());
        } finally {
            deleteTree(dir);
        }
    }

    interface Op {
        void run() throws Exception;
    }

    private static void run(int callers, int seconds, Op op) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                all.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        op.run();
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        }
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

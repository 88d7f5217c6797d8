package io.hayloft.bench.cluster;

import io.hayloft.bench.BenchDirs;
import io.hayloft.bench.Callers;
import io.hayloft.client.HayloftClient;
import io.hayloft.cluster.LocalCluster;
import io.hayloft.proto.v1.Fid;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

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
        Path dir = BenchDirs.create("hayloft-cluster-bench");
        try (LocalCluster cluster = LocalCluster.start(dir, LocalCluster.Options.defaults());
                HayloftClient client = cluster.client()) {
            ConcurrentLinkedQueue<Fid> written = new ConcurrentLinkedQueue<>();
            byte[] data = new byte[bytes];
            ThreadLocalRandom.current().nextBytes(data);
            Callers.run(callers, 2, () -> written.add(client.write(data)));
            long warm = written.size();
            long start = System.nanoTime();
            Callers.run(callers, seconds, () -> written.add(client.write(data)));
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            long writes = written.size() - warm;
            List<Fid> fids = new ArrayList<>(written);
            AtomicLong reads = new AtomicLong();
            Callers.run(callers, 2, () -> client.read(fids.get(ThreadLocalRandom.current().nextInt(fids.size()))));
            start = System.nanoTime();
            Callers.run(callers, seconds, () -> {
                client.read(fids.get(ThreadLocalRandom.current().nextInt(fids.size())));
                reads.incrementAndGet();
            });
            double readSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("callers=%d bytes=%d blob writes/s=%.0f blob reads/s=%.0f assignments=%d%n", callers,
                    bytes, writes / writeSeconds, reads.get() / readSeconds, client.assignments());
        } finally {
            BenchDirs.delete(dir);
        }
    }
}

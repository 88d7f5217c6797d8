package io.hayloft.bench.volume;

import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;

/**
 * Heap bytes per needle of an open volume, measured two ways: the index's own count of its
 * arrays, and the growth of the used heap (everything the open volume holds) after a full GC.
 *
 * <p>Run: {@code java -cp hayloft-bench/target/benchmarks.jar io.hayloft.bench.volume.IndexMemory
 * [needles] [keys]}.
 */
public final class IndexMemory {
    private IndexMemory() {}

    public static void main(String[] args) throws Exception {
        int needles = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        String keys = args.length > 1 ? args[1] : "ascending";
        Path dir = VolumeFixtures.build("open", needles, 16, keys);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        fullGc();
        long before = memory.getHeapMemoryUsage().getUsed();
        long start = System.nanoTime();
        Volume v = Volume.open(dir, 1, VolumeConfig.defaults());
        long openMs = (System.nanoTime() - start) / 1_000_000;
        fullGc();
        long after = memory.getHeapMemoryUsage().getUsed();
        System.out.printf("needles=%d keys=%s open_ms=%d%n", needles, keys, openMs);
        System.out.printf("index arrays:   %.2f bytes/needle%n", (double) v.indexHeapBytes() / needles);
        System.out.printf("heap growth:    %.2f bytes/needle (used heap after full GC)%n",
                (double) (after - before) / needles);
        v.close();
    }

    private static void fullGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
    }
}

package io.hayloft.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.client.HayloftClient;
import io.hayloft.proto.v1.Fid;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Blobs whose bytes follow from a seed and an index, written and checked through the client. */
final class SeededBlobs {
    private SeededBlobs() {}

    /** Blob {@code i} of the seeded set: mostly up to 4 KiB, some up to 64 KiB, a few over 1 MiB. */
    static byte[] blob(long seed, int i) {
        Random r = new Random(seed * 1_000_003 + i);
        int kind = r.nextInt(100);
        int size;
        if (kind < 79) {
            size = r.nextInt(4097);
        } else if (kind < 99) {
            size = 4096 + r.nextInt(60 * 1024);
        } else {
            size = 64 * 1024 + r.nextInt(1200 * 1024);
        }
        byte[] b = new byte[size];
        r.nextBytes(b);
        return b;
    }

    /** Writes blobs {@code from} to {@code to} (exclusive) with {@code writers} concurrent writers. */
    static List<Fid> writeAll(HayloftClient client, long seed, int from, int to, int writers) throws Exception {
        Fid[] fids = new Fid[to - from];
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                all.add(pool.submit(() -> {
                    for (int i = from + writer; i < to; i += writers) {
                        fids[i - from] = client.write(blob(seed, i));
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get(10, TimeUnit.MINUTES);
            }
        }
        return Arrays.asList(fids);
    }

    /** Reads every blob back and compares it byte for byte with what was written. */
    static void readAll(HayloftClient client, long seed, int from, List<Fid> fids, int readers) throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int w = 0; w < readers; w++) {
                int reader = w;
                all.add(pool.submit(() -> {
                    for (int i = reader; i < fids.size(); i += readers) {
                        assertThat(client.read(fids.get(i))).as("blob %d (seed %d)", from + i, seed)
                                .isEqualTo(blob(seed, from + i));
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get(10, TimeUnit.MINUTES);
            }
        }
    }
}

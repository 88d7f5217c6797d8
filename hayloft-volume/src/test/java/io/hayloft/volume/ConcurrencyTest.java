package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrencyTest {
    @TempDir
    Path dir;

    /** Many threads append and read one volume, with fsync and compactions: nothing lost or mixed up. */
    @Test
    void manyWritersAndReadersWithCompaction() throws Exception {
        int writers = 16;
        int perWriter = 150;
        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicBoolean writing = new AtomicBoolean(true);
        try (Volume v = Volume.create(dir, 1, 5, config(true))) {
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            // The readers spin until the writers are done: on platform threads of their own, so
            // that they run beside the writers' virtual threads instead of taking their carriers.
            ExecutorService readers = Executors.newFixedThreadPool(4);
            List<Future<?>> writes = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                writes.add(pool.submit(() -> {
                    for (int i = 0; i < perWriter; i++) {
                        long id = writer * 100_000L + i;
                        v.append(id, (int) id, bytes(id, (int) (id % 5000)));
                        acknowledged.add(id);
                        if (i % 10 == 9) {
                            long old = id - 5;
                            v.delete(old, (int) old);
                            acknowledged.remove(old);
                        }
                    }
                    return null;
                }));
            }
            List<Future<Integer>> reads = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                reads.add(readers.submit(() -> {
                    int checked = 0;
                    while (writing.get()) {
                        for (Long id : acknowledged.toArray(new Long[0])) {
                            try {
                                assertThat(toArray(v.read(id, (int) (long) id))).isEqualTo(bytes(id, (int) (id % 5000)));
                                checked++;
                            } catch (VolumeException e) {
                                assertThat(e.code()).as("%s", e).isEqualTo(VolumeErrorCode.DELETED);
                            }
                            if (!writing.get()) {
                                break;
                            }
                        }
                    }
                    return checked;
                }));
            }
            Future<Integer> compactions = pool.submit(() -> {
                int n = 0;
                while (writing.get() && n < 20) {
                    v.compact();
                    n++;
                }
                return n;
            });
            for (Future<?> f : writes) {
                f.get(120, TimeUnit.SECONDS);
            }
            writing.set(false);
            for (Future<Integer> f : reads) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isPositive();
            }
            assertThat(compactions.get(60, TimeUnit.SECONDS)).isPositive();
            pool.shutdown();
            readers.shutdown();
            VolumeStats s = v.stats();
            assertThat(s.liveNeedles()).isEqualTo(acknowledged.size());
            assertThat(s.lastSequence()).isEqualTo((long) writers * perWriter + writers * (perWriter / 10));
        }
        try (Volume v = Volume.open(dir, 1, config(true))) {
            for (long id : acknowledged) {
                assertThat(toArray(v.read(id, (int) id))).isEqualTo(bytes(id, (int) (id % 5000)));
            }
            assertThat(v.scrub()).isEmpty();
        }
    }

    /** An interrupted reader or writer must not break the volume for everyone else. */
    @Test
    void interruptsDoNotCloseTheVolume() throws Exception {
        try (Volume v = Volume.create(dir, 1, 5, config(true))) {
            v.append(1, 1, bytes(1, 10_000));
            Thread.currentThread().interrupt();
            try {
                assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 10_000));
                v.append(2, 2, bytes(2, 10));
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
            }
            assertThat(toArray(v.read(2, 2))).isEqualTo(bytes(2, 10));
            Thread t = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 2000; i++) {
                    try {
                        v.read(1, 1);
                    } catch (VolumeException e) {
                        throw new AssertionError(e);
                    }
                }
            });
            for (int i = 0; i < 50; i++) {
                t.interrupt();
            }
            t.join();
            assertThat(toArray(v.read(1, 1))).isEqualTo(bytes(1, 10_000));
            v.append(3, 3, bytes(3, 10));
        }
    }
}

package io.hayloft.volume;

import static io.hayloft.volume.VolumeTestSupport.bytes;
import static io.hayloft.volume.VolumeTestSupport.config;
import static io.hayloft.volume.VolumeTestSupport.toArray;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random sequences of appends, overwrites, deletes and reads against a reference map, with
 * compactions at random points, some of them cut short by a simulated crash at one of the
 * compaction's steps. The seed is printed when a case fails.
 */
class CompactionPropertyTest {
    private static final String[] CRASH_POINTS = {
        "compaction.started", "compaction.copied", "compaction.synced", "compaction.committing",
        "compaction.renamed-data", "compaction.renamed-index",
    };

    @TempDir
    Path dir;

    /** Thrown by an armed failpoint: stands for the process dying at that step. */
    static final class SimulatedCrash extends Error {
        private static final long serialVersionUID = 1L;

        SimulatedCrash(String point) {
            super("simulated crash at " + point);
        }
    }

    /** Expected state of one needle: its cookie and length, or deleted. */
    record Expected(int cookie, int length, boolean deleted) {}

    @Test
    void randomOperationsWithCompactionsAndCrashes() throws Exception {
        long baseSeed = System.nanoTime();
        for (int round = 0; round < 12; round++) {
            long seed = baseSeed + round;
            Path d = Files.createDirectory(dir.resolve("r" + round));
            try {
                runCase(d, seed);
            } catch (Throwable e) {
                throw new AssertionError("seed " + seed + " failed: " + e, e);
            }
        }
    }

    /** Every step of a compaction, crashed at on purpose: the volume reopens whole, with or without the compaction. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "compaction.started", "compaction.copied", "compaction.synced", "compaction.committing",
        "compaction.renamed-data", "compaction.renamed-index",
    })
    void crashAtEachCompactionStep(String point) throws Exception {
        boolean[] armed = {false};
        Failpoints failpoints = name -> {
            if (armed[0] && name.equals(point)) {
                armed[0] = false;
                throw new SimulatedCrash(name);
            }
        };
        Volume v = Volume.create(dir, 1, 3, config(true), failpoints);
        for (int i = 1; i <= 50; i++) {
            v.append(i, i, bytes(i, i * 37));
        }
        for (int i = 1; i <= 50; i += 3) {
            v.delete(i, i);
        }
        v.append(7, 70, bytes(7, 5));
        long before = v.stats().generation();
        armed[0] = true;
        try {
            v.compact();
            throw new AssertionError("crash point " + point + " not reached");
        } catch (SimulatedCrash crash) {
            v.close();
        }
        boolean committed = point.equals("compaction.committing") || point.startsWith("compaction.renamed");
        try (Volume reopened = Volume.open(dir, 1, config(true))) {
            assertNoCompactionLeftovers(dir);
            assertThat(reopened.stats().generation()).isEqualTo(committed ? before + 1 : before);
            for (int i = 1; i <= 50; i++) {
                int id = i;
                if (i == 7) {
                    assertThat(toArray(reopened.read(7, 70))).isEqualTo(bytes(7, 5));
                } else if ((i - 1) % 3 == 0) {
                    VolumeTestSupport.assertCode(VolumeErrorCode.DELETED, () -> reopened.read(id, id));
                } else {
                    assertThat(toArray(reopened.read(i, i))).isEqualTo(bytes(i, i * 37));
                }
            }
            assertThat(reopened.stats().lastSequence()).isEqualTo(50 + 17 + 1);
            assertThat(reopened.scrub()).isEmpty();
            reopened.append(100, 1, bytes(100, 10));
            reopened.compact();
            assertThat(toArray(reopened.read(100, 1))).isEqualTo(bytes(100, 10));
        }
    }

    private void runCase(Path d, long seed) throws Exception {
        Random random = new Random(seed);
        String[] armed = {null};
        Failpoints failpoints = name -> {
            if (name.equals(armed[0])) {
                armed[0] = null;
                throw new SimulatedCrash(name);
            }
        };
        Map<Long, Expected> model = new HashMap<>();
        long[] sequence = {0};
        Volume v = Volume.create(d, 1, seed, config(false), failpoints);
        try {
            int ops = 400 + random.nextInt(400);
            for (int i = 0; i < ops; i++) {
                int kind = random.nextInt(100);
                long id = 1 + random.nextInt(120);
                if (kind < 50) {
                    int cookie = random.nextInt();
                    int length = pickLength(random);
                    v.append(id, cookie, bytes(id * 1000 + (cookie & 0xFFF), length));
                    model.put(id, new Expected(cookie, length, false));
                    sequence[0]++;
                } else if (kind < 70) {
                    Expected e = model.get(id);
                    if (e != null && !e.deleted()) {
                        v.delete(id, e.cookie());
                        model.put(id, new Expected(e.cookie(), 0, true));
                        sequence[0]++;
                    }
                } else if (kind < 95) {
                    checkOne(v, model, id);
                } else if (kind < 98) {
                    v.compact();
                    checkAll(v, model, sequence[0]);
                } else {
                    armed[0] = CRASH_POINTS[random.nextInt(CRASH_POINTS.length)];
                    try {
                        v.compact();
                        throw new AssertionError("crash point " + armed[0] + " not reached");
                    } catch (SimulatedCrash crash) {
                        // The process "dies": drop the volume without any cleanup, then restart.
                        v.close();
                    }
                    v = Volume.open(d, 1, config(false), failpoints);
                    assertNoCompactionLeftovers(d);
                    checkAll(v, model, sequence[0]);
                }
            }
            v.compact();
            checkAll(v, model, sequence[0]);
            assertThat(v.stats().garbageBytes()).isZero();
            v.close();
            v = Volume.open(d, 1, config(false), failpoints);
            checkAll(v, model, sequence[0]);
        } finally {
            v.close();
        }
    }

    private static int pickLength(Random random) {
        int[] awkward = {0, 1, 7, 8, 9, 4095, 4096, 4097, 65535, 65536, 65537};
        return random.nextInt(4) == 0 ? awkward[random.nextInt(awkward.length)] : random.nextInt(3000);
    }

    private static void checkOne(Volume v, Map<Long, Expected> model, long id) throws VolumeException {
        Expected e = model.get(id);
        if (e == null) {
            VolumeTestSupport.assertCode(VolumeErrorCode.NOT_FOUND, () -> v.read(id, 1));
        } else if (e.deleted()) {
            VolumeTestSupport.assertCode(VolumeErrorCode.DELETED, () -> v.read(id, e.cookie()));
        } else {
            assertThat(toArray(v.read(id, e.cookie()))).as("needle %d", id)
                    .isEqualTo(bytes(id * 1000 + (e.cookie() & 0xFFF), e.length()));
        }
    }

    private static void checkAll(Volume v, Map<Long, Expected> model, long lastSequence) throws VolumeException {
        for (long id = 1; id <= 121; id++) {
            checkOne(v, model, id);
        }
        VolumeStats s = v.stats();
        assertThat(s.lastSequence()).isEqualTo(lastSequence);
        assertThat(s.liveNeedles()).isEqualTo(model.values().stream().filter(e -> !e.deleted()).count());
        assertThat(s.deletedNeedles()).isEqualTo(model.values().stream().filter(Expected::deleted).count());
        assertThat(v.scrub()).isEmpty();
    }

    private static void assertNoCompactionLeftovers(Path d) throws Exception {
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(d)) {
            files.forEach(p -> names.add(p.getFileName().toString()));
        }
        assertThat(names).containsExactlyInAnyOrder("1.dat", "1.idx");
    }
}

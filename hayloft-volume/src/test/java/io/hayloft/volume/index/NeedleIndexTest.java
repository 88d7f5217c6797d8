package io.hayloft.volume.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class NeedleIndexTest {

    /** Seeded random puts, mostly ascending with bursts out of order, against a reference map. */
    @Test
    void matchesReferenceMap() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        try {
            for (int round = 0; round < 5; round++) {
                NeedleIndex index = new NeedleIndex();
                Map<Long, Long> model = new HashMap<>();
                long next = random.nextInt(1000);
                int ops = 20_000 + random.nextInt(40_000);
                for (int i = 0; i < ops; i++) {
                    long key;
                    int kind = random.nextInt(10);
                    if (kind < 6) {
                        key = next;
                        next += 1 + random.nextInt(3);
                    } else if (kind < 8 || model.isEmpty()) {
                        key = random.nextInt((int) Math.max(1, next));
                    } else {
                        key = next - 1 - random.nextInt((int) Math.min(next, 50));
                    }
                    long value = 1 + (random.nextLong() & Long.MAX_VALUE - 1);
                    Long expectedOld = model.put(key, value);
                    assertThat(index.put(key, value)).isEqualTo(expectedOld == null ? 0 : expectedOld);
                    if (random.nextInt(100) == 0) {
                        long probe = random.nextInt((int) next + 10);
                        assertThat(index.get(probe)).isEqualTo(model.getOrDefault(probe, 0L));
                    }
                }
                assertThat(index.size()).isEqualTo(model.size());
                for (Map.Entry<Long, Long> e : model.entrySet()) {
                    assertThat(index.get(e.getKey())).isEqualTo(e.getValue());
                }
                List<Long> visited = new ArrayList<>();
                index.forEach((k, v) -> {
                    visited.add(k);
                    assertThat(v).isEqualTo(model.get(k));
                });
                assertThat(visited).containsExactlyInAnyOrderElementsOf(model.keySet());
            }
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    @Test
    void bulkLoadOfRandomKeysMergesOnce() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        NeedleIndex index = new NeedleIndex();
        TreeMap<Long, Long> model = new TreeMap<>();
        index.startBulkLoad();
        for (int i = 0; i < 50_000; i++) {
            long key = random.nextLong();
            long value = i + 1;
            model.put(key, value);
            index.put(key, value);
        }
        index.finishBulkLoad();
        List<Long> keys = new ArrayList<>();
        index.forEach((k, v) -> keys.add(k));
        assertThat(keys).as("seed %d", seed).isEqualTo(new ArrayList<>(model.keySet()));
        model.forEach((k, v) -> assertThat(index.get(k)).isEqualTo(v));
    }

    @Test
    void extremeKeysWork() {
        NeedleIndex index = new NeedleIndex();
        index.put(0, 5);
        index.put(Long.MAX_VALUE, 6);
        index.put(Long.MIN_VALUE, 7);
        index.put(-1, 8);
        assertThat(index.get(0)).isEqualTo(5);
        assertThat(index.get(Long.MAX_VALUE)).isEqualTo(6);
        assertThat(index.get(Long.MIN_VALUE)).isEqualTo(7);
        assertThat(index.get(-1)).isEqualTo(8);
        assertThat(index.get(1)).isZero();
    }

    @Test
    void rejectsTheAbsentValue() {
        assertThatThrownBy(() -> new NeedleIndex().put(1, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void ascendingKeysCostSixteenBytesEach() {
        NeedleIndex index = new NeedleIndex();
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            index.put(i * 3L, i + 1);
        }
        assertThat((double) index.heapBytes() / n).isLessThan(16.3);
    }
}

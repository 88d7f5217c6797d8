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
                    } else if (kind < 8 || model.isEmpty() || next == 0) {
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
        index.startBulkLoad(10);
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
    void ascendingKeysCostTwelveBytesEach() {
        NeedleIndex index = new NeedleIndex();
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            index.put(i * 3L, i + 1);
        }
        assertThat((double) index.heapBytes() / n).isLessThan(12.2);
    }

    /** A page whose ids spread over more than 2^32 switches to full ids and keeps working. */
    @Test
    void widelySpreadIdsInOnePage() {
        NeedleIndex index = new NeedleIndex();
        long[] ids = {5, 6, 1L << 33, (1L << 33) + 1, Long.MAX_VALUE - 1};
        for (int i = 0; i < ids.length; i++) {
            index.put(ids[i], i + 1);
        }
        for (int i = 0; i < ids.length; i++) {
            assertThat(index.get(ids[i])).isEqualTo(i + 1);
        }
        assertThat(index.get(7)).isZero();
        assertThat(index.get((1L << 33) - 1)).isZero();
        index.put(6, 99);
        assertThat(index.get(6)).isEqualTo(99);
    }

    /** In a bulk load the last entry of an id wins, sorted or not. */
    @Test
    void bulkLoadKeepsTheLastEntryOfEachId() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (boolean ordered : new boolean[] {true, false}) {
            NeedleIndex index = new NeedleIndex();
            Map<Long, Long> model = new HashMap<>();
            index.startBulkLoad(4);
            long next = 1;
            for (int i = 0; i < 30_000; i++) {
                long id = ordered ? next++ : (random.nextInt(3) == 0 ? -random.nextInt(1000) : random.nextInt(5000));
                long value = i + 1;
                index.put(id, value);
                model.put(id, value);
            }
            index.finishBulkLoad();
            assertThat(index.size()).as("seed %d", seed).isEqualTo(model.size());
            model.forEach((k, v) -> assertThat(index.get(k)).as("seed %d id %d", seed, k).isEqualTo(v));
            index.put(Long.MAX_VALUE, 1);
            index.put(-5000, 2);
            assertThat(index.get(-5000)).isEqualTo(2);
        }
    }
}

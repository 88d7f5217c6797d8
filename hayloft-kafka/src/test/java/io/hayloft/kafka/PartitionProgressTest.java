package io.hayloft.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PartitionProgressTest {
    @Test
    void commitsOnlyBelowTheFirstUnfinishedRecord() {
        PartitionProgress p = new PartitionProgress();
        assertThat(p.committable()).isEqualTo(-1);
        PartitionProgress.Ticket a = p.take(10, null);
        PartitionProgress.Ticket b = p.take(11, null);
        PartitionProgress.Ticket c = p.take(12, null);
        assertThat(p.committable()).isEqualTo(10);
        p.committed(10);
        p.finish(b);
        p.finish(c);
        assertThat(p.committable()).as("11 and 12 are done, 10 is not").isEqualTo(-1);
        p.finish(a);
        assertThat(p.committable()).isEqualTo(13);
        p.committed(13);
        assertThat(p.committable()).isEqualTo(-1);
        assertThat(p.unfinished()).isZero();
    }

    @Test
    void offsetsMustIncrease() {
        PartitionProgress p = new PartitionProgress();
        p.take(5, null);
        assertThatThrownBy(() -> p.take(5, null)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void recordsWithTheSameKeyWaitForTheirPredecessor() {
        PartitionProgress p = new PartitionProgress();
        PartitionProgress.Ticket first = p.take(0, "cat.jpg");
        PartitionProgress.Ticket other = p.take(1, "dog.jpg");
        PartitionProgress.Ticket second = p.take(2, "cat.jpg");
        assertThat(first.before).isNull();
        assertThat(other.before).isNull();
        assertThat(second.before).isSameAs(first.done);
        assertThat(second.before).isNotDone();
        p.finish(first);
        assertThat(second.before).isDone();
        PartitionProgress.Ticket third = p.take(3, "cat.jpg");
        assertThat(third.before).isSameAs(second.done);
        p.finish(second);
        p.finish(third);
        assertThat(p.take(4, "cat.jpg").before).as("no unfinished predecessor").isNull();
    }

    @Test
    void abandoningWakesWaitersAndStopsPauses() throws Exception {
        PartitionProgress p = new PartitionProgress();
        PartitionProgress.Ticket first = p.take(0, "k");
        PartitionProgress.Ticket second = p.take(1, "k");
        Thread sleeper = Thread.ofVirtual().start(() -> {
            try {
                p.pause(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        p.abandon();
        assertThat(second.before).isDone();
        assertThat(p.abandoned()).isTrue();
        sleeper.join(30_000);
        assertThat(sleeper.isAlive()).as("the back-off pause ends when the partition is given up").isFalse();
        assertThat(first.finished).isFalse();
        assertThat(p.committable()).as("abandoned records are not committed").isEqualTo(0);
        assertThat(p.awaitIdle(10)).as("two takers have not exited").isFalse();
        p.exited();
        p.exited();
        assertThat(p.awaitIdle(10)).isTrue();
    }

    /** Seeded: records finish in a random order; the committable offset is always the first unfinished one. */
    @Test
    void committableOffsetFollowsRandomCompletions() {
        long seed = Long.getLong("hayloft.seed", System.nanoTime());
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            PartitionProgress p = new PartitionProgress();
            long offset = random.nextInt(1_000);
            List<PartitionProgress.Ticket> open = new ArrayList<>();
            TreeSet<Long> unfinished = new TreeSet<>();
            long next = -1;
            long committed = -1;
            for (int step = 0; step < 100; step++) {
                if (open.isEmpty() || random.nextInt(3) > 0) {
                    offset += 1 + random.nextInt(3);  // compacted topics and transactions leave gaps
                    open.add(p.take(offset, random.nextBoolean() ? null : "k" + random.nextInt(4)));
                    unfinished.add(offset);
                    next = offset + 1;
                } else {
                    Collections.shuffle(open, random);
                    PartitionProgress.Ticket t = open.removeLast();
                    p.finish(t);
                    unfinished.remove(t.offset);
                }
                long expected = unfinished.isEmpty() ? next : unfinished.first();
                long c = p.committable();
                String why = "seed " + seed + " round " + round + " step " + step;
                if (expected > committed) {
                    assertThat(c).as(why).isEqualTo(expected);
                    if (random.nextBoolean()) {
                        p.committed(c);
                        committed = c;
                    }
                } else {
                    assertThat(c).as(why).isEqualTo(-1);
                }
            }
        }
    }
}

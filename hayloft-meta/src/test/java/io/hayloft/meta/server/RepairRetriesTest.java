package io.hayloft.meta.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pauses between tries of a failing repair, and their end when a store comes back. */
class RepairRetriesTest {
    private static final long T0 = 1_000_000_000_000L;

    private static long ms(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    private static final String REJOIN_7 = "7/rejoin/s3";

    @Test
    void pausesDoubleUpToAMinuteAndASuccessForgetsThem() {
        RepairRetries r = new RepairRetries();
        assertThat(r.waiting(REJOIN_7, T0)).isFalse();
        long[] pauses = new long[9];
        for (int i = 0; i < pauses.length; i++) {
            pauses[i] = r.failed(REJOIN_7, T0);
        }
        assertThat(pauses).containsExactly(1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000);
        assertThat(r.waiting(REJOIN_7, T0 + ms(59_999))).isTrue();
        assertThat(r.waiting(REJOIN_7, T0 + ms(60_000))).isFalse();
        assertThat(r.waiting("8/rejoin/s3", T0)).as("another volume").isFalse();
        assertThat(r.waiting("7/catch-up/", T0)).as("another repair of the volume").isFalse();

        // Another repair of the volume succeeding leaves this one's count alone.
        r.succeeded("7/catch-up/");
        assertThat(r.failed(REJOIN_7, T0)).isEqualTo(60_000);

        r.succeeded(REJOIN_7);
        assertThat(r.waiting(REJOIN_7, T0)).isFalse();
        assertThat(r.failed(REJOIN_7, T0)).as("counted from the start again").isEqualTo(1_000);
    }

    @Test
    void aStoreComingBackEndsEveryPauseButNotTheCount() {
        RepairRetries r = new RepairRetries();
        assertThat(r.storesLive(Set.of("s0", "s1", "s2"))).isEmpty(); // nothing paused yet
        for (int i = 0; i < 5; i++) {
            r.failed("1/copy/s2", T0);
        }
        r.failed("2/copy/s2", T0);
        assertThat(r.waiting("1/copy/s2", T0 + ms(1))).isTrue();
        assertThat(r.waiting("2/copy/s2", T0 + ms(1))).isTrue();

        // A store going away, or the same stores again, changes nothing.
        assertThat(r.storesLive(Set.of("s0", "s1"))).isEmpty();
        assertThat(r.storesLive(Set.of("s0", "s1"))).isEmpty();
        assertThat(r.waiting("1/copy/s2", T0 + ms(1))).isTrue();

        // s2 is back: both repairs may run at once.
        assertThat(r.storesLive(Set.of("s0", "s1", "s2"))).containsExactly("s2");
        assertThat(r.waiting("1/copy/s2", T0 + ms(1))).isFalse();
        assertThat(r.waiting("2/copy/s2", T0 + ms(1))).isFalse();
        // Failing again, volume 1 pauses as long as its sixth failure calls for.
        assertThat(r.failed("1/copy/s2", T0)).isEqualTo(32_000);

        // A store never seen before counts as come back too.
        assertThat(r.storesLive(Set.of("s0", "s1", "s2", "s3"))).containsExactly("s3");
        assertThat(r.waiting("1/copy/s2", T0 + ms(1))).isFalse();
    }
}

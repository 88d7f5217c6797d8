package io.hayloft.meta.server;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * When a failed repair is tried again: after 1 s, then twice as long after each further failure,
 * up to a minute, so that a repair that cannot succeed (its source or target gone) does not
 * hammer the stores. A repair is known by its key: its volume, its kind and its store. Another
 * repair of the same volume that succeeds meanwhile (a catch-up between two failed rejoins) does
 * not start the count again.
 *
 * <p>A pause is cut short when a store becomes live that was not at the previous look: most
 * repairs fail because a store they needed was away, and the one that came back may be it.
 * Without this, a volume whose repair had failed a few times during an outage stayed degraded
 * for up to a minute after the outage ended (a fault-injection run with 24 faults in 2 minutes
 * took 115 s to heal after the last one).
 */
final class RepairRetries {
    static final long FIRST_PAUSE_MS = 1_000;
    static final long PAUSE_MAX_MS = 60_000;

    private final Map<String, Long> retryAt = new ConcurrentHashMap<>();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private Set<String> liveStores = Set.of();

    /** Records a failure of the repair at {@code nowNanos}; returns the pause before the next try, in ms. */
    long failed(String repair, long nowNanos) {
        int n = failures.merge(repair, 1, Integer::sum);
        long pause = Math.min(PAUSE_MAX_MS, FIRST_PAUSE_MS << Math.min(6, n - 1));
        retryAt.put(repair, nowNanos + TimeUnit.MILLISECONDS.toNanos(pause));
        return pause;
    }

    /** Forgets the repair's failures: it succeeded. */
    void succeeded(String repair) {
        failures.remove(repair);
        retryAt.remove(repair);
    }

    /** Whether the repair must still wait at {@code nowNanos}. */
    boolean waiting(String repair, long nowNanos) {
        Long at = retryAt.get(repair);
        return at != null && nowNanos - at < 0;
    }

    /**
     * Tells the stores live now; when one of them was not live at the previous call, every
     * pause ends, and returns the stores that came back (empty when none did). The failure
     * counts stay, so a repair that fails again pauses as long as it would have.
     */
    synchronized Set<String> storesLive(Set<String> live) {
        Set<String> back = new HashSet<>(live);
        back.removeAll(liveStores);
        liveStores = Set.copyOf(live);
        if (back.isEmpty() || retryAt.isEmpty()) {
            return Set.of();
        }
        retryAt.clear();
        return back;
    }
}

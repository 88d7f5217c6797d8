package io.hayloft.it;

import io.hayloft.it.History.Kind;
import io.hayloft.it.History.Op;
import io.hayloft.it.History.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a history of operations on keys against what a linearizable object store may answer.
 *
 * <p>A write (put or delete) takes effect at some moment between its start and its end; an
 * unknown one may take effect any time after its start, or never; a refused one never does. So a
 * read that began at {@code t0} and ended at {@code t1} may return the value of a write {@code w}
 * only if {@code w} started before {@code t1}, and no acknowledged write started after {@code w}
 * ended and ended before {@code t0} (it would have replaced {@code w} before the read began). A
 * read that returns nothing needs such a delete, or no acknowledged write before it at all. The
 * same rule with the final reads, made after every operation ended, says no acknowledged write was
 * lost. A list must show every key such a read must find, and no key such a read could not find.
 */
final class Checker {
    private final Map<String, List<Op>> writesByKey = new HashMap<>();
    private final Map<Long, Op> putsByValue = new HashMap<>();
    private final Map<String, KeyWrites> keys = new HashMap<>();
    private final List<String> anomalies = new ArrayList<>();

    Checker(List<Op> ops) {
        for (Op op : ops) {
            if (op.isWrite()) {
                writesByKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
                if (op.kind() == Kind.PUT) {
                    putsByValue.put(op.value(), op);
                }
            }
        }
        writesByKey.forEach((key, writes) -> keys.put(key, new KeyWrites(writes)));
        for (Op op : ops) {
            switch (op.kind()) {
                case GET -> checkRead(op, "read");
                case LIST -> checkList(op);
                default -> { }
            }
        }
    }

    /** Checks a read made after every operation of the history ended: a lost write shows here. */
    void checkFinalRead(Op read) {
        checkRead(read, "final read");
    }

    List<String> anomalies() {
        return anomalies;
    }

    private void checkRead(Op read, String what) {
        if (read.outcome() == Outcome.DAMAGED) {
            anomalies.add("corrupt bytes served: " + read);
            return;
        }
        if (read.outcome() != Outcome.OK) {
            return;  // unavailable, not wrong
        }
        List<Op> writes = writesByKey.getOrDefault(read.key(), List.of());
        if (read.value() == History.ABSENT) {
            if (!mayBeAbsent(read.key(), writes, read.start(), read.end())) {
                anomalies.add(what + " found nothing where an acknowledged value must be (a lost or stale write): "
                        + read + "; last acknowledged writes: " + lastAcknowledged(writes, read.start()));
            }
            return;
        }
        Op put = putsByValue.get(read.value());
        if (put == null || !put.key().equals(read.key())) {
            anomalies.add(what + " returned a value never written: " + read);
        } else if (put.outcome() == Outcome.FAILED) {
            anomalies.add(what + " returned the value of a refused write: " + read + "; the write: " + put);
        } else if (put.start() > read.end()) {
            anomalies.add(what + " returned a value written after it ended: " + read + "; the write: " + put);
        } else if (supersededBefore(put, read.start())) {
            anomalies.add(what + " returned a replaced value (a stale read or a lost write): " + read
                    + "; last acknowledged writes: " + lastAcknowledged(writes, read.start()));
        }
    }

    private void checkList(Op list) {
        if (list.outcome() != Outcome.OK) {
            return;
        }
        Set<String> keys = new TreeSet<>(writesByKey.keySet());
        keys.addAll(list.listed());
        for (String key : keys) {
            List<Op> writes = writesByKey.getOrDefault(key, List.of());
            boolean listed = list.listed().contains(key);
            if (listed && !mayBePresent(writes, list.start(), list.end())) {
                anomalies.add("list showed " + key + ", which no read then could find: " + list
                        + "; last acknowledged writes: " + lastAcknowledged(writes, list.start()));
            } else if (!listed && !mayBeAbsent(key, writes, list.start(), list.end())) {
                anomalies.add("list missed " + key + ", which an acknowledged write put there: " + list
                        + "; last acknowledged writes: " + lastAcknowledged(writes, list.start()));
            }
        }
    }

    /** Whether an acknowledged write started after {@code w} could have taken effect and ended before {@code t0}. */
    private boolean supersededBefore(Op w, long t0) {
        return keys.get(w.key()).acknowledgedBetween(w.effectEnd(), t0);
    }

    private boolean mayBeAbsent(String key, List<Op> writes, long t0, long t1) {
        KeyWrites k = keys.get(key);
        if (k == null || !k.acknowledgedBetween(Long.MIN_VALUE, t0)) {
            return true;  // the key's first state, nothing, may still be seen
        }
        for (Op d : writes) {
            if (d.kind() == Kind.DELETE && d.outcome() != Outcome.FAILED && d.start() < t1
                    && !supersededBefore(d, t0)) {
                return true;
            }
        }
        return false;
    }

    private boolean mayBePresent(List<Op> writes, long t0, long t1) {
        for (Op p : writes) {
            if (p.kind() == Kind.PUT && p.outcome() != Outcome.FAILED && p.start() < t1
                    && !supersededBefore(p, t0)) {
                return true;
            }
        }
        return false;
    }

    private static List<Op> lastAcknowledged(List<Op> writes, long before) {
        List<Op> acked = writes.stream().filter(w -> w.outcome() == Outcome.OK && w.end() < before).toList();
        return acked.subList(Math.max(0, acked.size() - 3), acked.size());
    }

    /** A key's acknowledged writes by start, with the earliest end among those from each one on. */
    private static final class KeyWrites {
        private final long[] starts;
        private final long[] minEndFrom;

        KeyWrites(List<Op> writes) {
            List<Op> acked = writes.stream().filter(w -> w.outcome() == Outcome.OK)
                    .sorted(java.util.Comparator.comparingLong(Op::start)).toList();
            starts = new long[acked.size()];
            minEndFrom = new long[acked.size() + 1];
            minEndFrom[acked.size()] = Long.MAX_VALUE;
            for (int i = acked.size() - 1; i >= 0; i--) {
                starts[i] = acked.get(i).start();
                minEndFrom[i] = Math.min(minEndFrom[i + 1], acked.get(i).end());
            }
        }

        /** Whether an acknowledged write started after {@code after} and ended before {@code before}. */
        boolean acknowledgedBetween(long after, long before) {
            int lo = 0;
            int hi = starts.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (starts[mid] > after) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return minEndFrom[lo] < before;
        }
    }
}

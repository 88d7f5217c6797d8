package io.hayloft.it;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Every operation the workload ran, with when it started and ended (nanoTime) and what came of it. */
final class History {
    /** Read result meaning the key had no value. */
    static final long ABSENT = -1;

    enum Kind { PUT, DELETE, GET, LIST }

    /**
     * OK: acknowledged. FAILED: refused for sure (a 4xx), it never took effect. UNKNOWN: a timeout,
     * a dropped connection or a 5xx; it may have taken effect, then or later. DAMAGED: a read
     * returned bytes that are not a value written under the key.
     */
    enum Outcome { OK, FAILED, UNKNOWN, DAMAGED }

    /**
     * One operation. {@code value} is the id written by a put, or the id read by a get
     * ({@link #ABSENT} for none); {@code listed} the keys a list returned.
     */
    record Op(String client, Kind kind, String key, long value, long start, long end, Outcome outcome,
            Set<String> listed, String detail) {
        /** When the operation may still have taken effect: never for a refused one, any time for an unknown one. */
        long effectEnd() {
            return outcome == Outcome.UNKNOWN ? Long.MAX_VALUE : end;
        }

        boolean isWrite() {
            return kind == Kind.PUT || kind == Kind.DELETE;
        }

        @Override
        public String toString() {
            return kind + " " + (key == null ? "" : key + " ") + (kind == Kind.LIST ? listed : value == ABSENT
                    ? "absent" : "value " + value) + " by " + client + " [" + start / 1_000_000 + " ms, "
                    + end / 1_000_000 + " ms] " + outcome + (detail == null ? "" : " (" + detail + ")");
        }
    }

    private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();

    void add(Op op) {
        ops.add(op);
    }

    /** The operations in the order they started. */
    List<Op> ops() {
        List<Op> list = new ArrayList<>(ops);
        list.sort(Comparator.comparingLong(Op::start));
        return list;
    }
}

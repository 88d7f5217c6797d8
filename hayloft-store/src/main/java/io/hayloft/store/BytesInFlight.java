package io.hayloft.store;

import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import java.util.concurrent.atomic.AtomicLong;

/** The bytes of needles a store is receiving at once, over all calls, and their bound. */
final class BytesInFlight {
    private final long max;
    private final AtomicLong reserved = new AtomicLong();

    BytesInFlight(long max) {
        this.max = max;
    }

    /**
     * Reserves room for a needle being received.
     *
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE, to be retried, when it does not fit
     */
    void reserve(long bytes) {
        if (reserved.addAndGet(bytes) > max && bytes > 0) {
            reserved.addAndGet(-bytes);
            throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, "the store is receiving " + max
                    + " bytes of writes already; retry");
        }
    }

    void release(long bytes) {
        reserved.addAndGet(-bytes);
    }

    /** The bytes reserved now. */
    long reserved() {
        return reserved.get();
    }
}

package io.hayloft.meta.server;

import io.grpc.StatusRuntimeException;
import io.hayloft.client.Channels;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import java.util.concurrent.TimeUnit;

/** The leader's calls to stores: one blocking call with a deadline, its failure a typed MetaException. */
final class StoreCalls {
    /** One call to a store, made through a blocking stub that carries the call's deadline. */
    @FunctionalInterface
    interface StoreCall<T> {
        T run(StoreGrpc.StoreBlockingStub stub);
    }

    private final Channels channels;

    StoreCalls(Channels channels) {
        this.channels = channels;
    }

    /**
     * Calls store {@code s} within {@code deadlineMs}; a failure is a MetaException with the
     * store's own code, or UNAVAILABLE when it did not answer, saying what the call was to do.
     */
    <T> T call(StoreInfo s, String what, long deadlineMs, StoreCall<T> call) throws MetaException {
        if (s == null || s.getAddress().isEmpty()) {
            throw new MetaException(ErrorCode.NO_SUCH_STORE, "no address for a store to " + what);
        }
        try {
            return call.run(StoreGrpc.newBlockingStub(channels.get(s.getAddress()))
                    .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS));
        } catch (StatusRuntimeException e) {
            throw failure(s, what, e);
        }
    }

    static MetaException failure(StoreInfo s, String what, StatusRuntimeException e) {
        ErrorCode code = WireErrors.fromThrowable(e).map(io.hayloft.proto.v1.Error::getCode)
                .orElse(ErrorCode.UNAVAILABLE);
        return new MetaException(code, "store " + s.getStoreId() + " at " + s.getAddress() + " could not " + what
                + ": " + e.getMessage(), e);
    }
}

package io.hayloft.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReadNeedleRequest;
import io.hayloft.proto.v1.ReadNeedleResponse;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.proto.v1.WriteSmallNeedleRequest;
import java.io.ByteArrayOutputStream;
import java.util.Iterator;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/** Client-side helpers shared by the store tests: the generated gRPC client, used as a gateway would. */
final class StoreTestSupport {
    static final long WAIT_SECONDS = 30;

    private StoreTestSupport() {}

    static byte[] bytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static Fid fid(long needle, int cookie) {
        return Fid.newBuilder().setVolumeId(1).setNeedleId(needle).setCookie(cookie).build();
    }

    static int crc(byte[] data) {
        CRC32C c = new CRC32C();
        c.update(data);
        return (int) c.getValue();
    }

    /** Starts a write in pieces of 300,000 bytes; the future holds the sequence or the call's error. */
    static CompletableFuture<Long> startWrite(StoreGrpc.StoreStub stub, Fid fid, byte[] data, int crc, long sequence) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        StreamObserver<WriteNeedleRequest> in = stub.withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS)
                .writeNeedle(new StreamObserver<>() {
                    @Override
                    public void onNext(WriteNeedleResponse r) {
                        done.complete(r.getSequence());
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        in.onNext(WriteNeedleRequest.newBuilder().setHeader(WriteHeader.newBuilder().setFid(fid)
                .setLength(data.length).setCrc32C(crc).setSequence(sequence)).build());
        for (int at = 0; at < data.length; at += 300_000) {
            in.onNext(WriteNeedleRequest.newBuilder()
                    .setData(ByteString.copyFrom(data, at, Math.min(300_000, data.length - at))).build());
        }
        in.onCompleted();
        return done;
    }

    /** Writes in pieces; returns the sequence or throws the call's error. */
    static long write(StoreGrpc.StoreStub stub, Fid fid, byte[] data, int crc, long sequence) throws Exception {
        return await(startWrite(stub, fid, data, crc, sequence));
    }

    static long write(StoreGrpc.StoreStub stub, Fid fid, byte[] data) throws Exception {
        return write(stub, fid, data, crc(data), 0);
    }

    /** Starts a write of the whole needle in one message (WriteSmallNeedle). */
    static CompletableFuture<Long> startWriteSmall(StoreGrpc.StoreFutureStub stub, Fid fid, byte[] data, int crc,
            long length) {
        WriteSmallNeedleRequest request = WriteSmallNeedleRequest.newBuilder()
                .setHeader(WriteHeader.newBuilder().setFid(fid).setLength(length).setCrc32C(crc))
                .setData(ByteString.copyFrom(data)).build();
        return toCompletable(stub.withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS).writeSmallNeedle(request))
                .thenApply(WriteNeedleResponse::getSequence);
    }

    /** Writes the whole needle in one message; returns the sequence or throws the call's error. */
    static long writeSmall(StoreGrpc.StoreFutureStub stub, Fid fid, byte[] data) throws Exception {
        return await(startWriteSmall(stub, fid, data, crc(data), data.length));
    }

    private static <T> CompletableFuture<T> toCompletable(com.google.common.util.concurrent.ListenableFuture<T> f) {
        CompletableFuture<T> done = new CompletableFuture<>();
        f.addListener(() -> {
            try {
                done.complete(f.get());
            } catch (ExecutionException e) {
                done.completeExceptionally(e.getCause());
            } catch (InterruptedException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        }, Runnable::run);
        return done;
    }

    static long await(CompletableFuture<Long> call) throws Exception {
        try {
            return call.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** Reads a needle whole, checking its length and CRC against the header. */
    static byte[] read(StoreGrpc.StoreBlockingStub stub, Fid fid) {
        Iterator<ReadNeedleResponse> it = stub.withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS)
                .readNeedle(ReadNeedleRequest.newBuilder().setFid(fid).build());
        ReadNeedleResponse header = it.next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (it.hasNext()) {
            out.writeBytes(it.next().getData().toByteArray());
        }
        byte[] data = out.toByteArray();
        assertThat((long) data.length).isEqualTo(header.getHeader().getLength());
        assertThat(crc(data)).isEqualTo(header.getHeader().getCrc32C());
        return data;
    }

    static ErrorCode codeOf(Throwable t) {
        assertThat(t).as("the call should have failed").isNotNull();
        return WireErrors.fromThrowable(t).orElseThrow().getCode();
    }
}

package io.hayloft.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReadNeedleRequest;
import io.hayloft.proto.v1.ReadNeedleResponse;
import io.hayloft.proto.v1.StoreGrpc;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WireErrorsTest {

    /** Every code survives a real gRPC call (in-process transport) with its message and leader address. */
    @Test
    void errorsCrossTheWire() throws Exception {
        String name = InProcessServerBuilder.generateName();
        StoreGrpc.StoreImplBase failing = new StoreGrpc.StoreImplBase() {
            @Override
            public void readNeedle(ReadNeedleRequest request, StreamObserver<ReadNeedleResponse> out) {
                ErrorCode code = ErrorCode.forNumber((int) request.getFid().getNeedleId());
                out.onError(WireErrors.toStatus(Error.newBuilder().setCode(code).setMessage("needle says " + code)
                        .setLeaderAddress("127.0.0.1:7000").build()));
            }
        };
        Server server = InProcessServerBuilder.forName(name).directExecutor().addService(failing).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            StoreGrpc.StoreBlockingStub stub = StoreGrpc.newBlockingStub(channel);
            for (ErrorCode code : ErrorCode.values()) {
                if (code == ErrorCode.UNRECOGNIZED || code == ErrorCode.ERROR_CODE_UNSPECIFIED) {
                    continue;
                }
                Throwable t = catchThrowable(() -> stub.readNeedle(ReadNeedleRequest.newBuilder()
                        .setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(code.getNumber())).build()).next());
                Error error = WireErrors.fromThrowable(t).orElseThrow();
                assertThat(error.getCode()).isEqualTo(code);
                assertThat(error.getMessage()).isEqualTo("needle says " + code);
                assertThat(error.getLeaderAddress()).isEqualTo("127.0.0.1:7000");
                assertThat(Status.fromThrowable(t).getCode()).isEqualTo(WireErrors.statusFor(code).getCode());
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void transportFailuresBecomeUnavailable() {
        Throwable t = Status.UNAVAILABLE.withDescription("connection refused").asRuntimeException();
        assertThat(WireErrors.fromThrowable(t).orElseThrow().getCode()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(WireErrors.fromThrowable(new RuntimeException("boom")).orElseThrow().getCode())
                .isEqualTo(ErrorCode.INTERNAL);
    }

    /** Field numbers are the wire format: pin a message's bytes. */
    @Test
    void fidBytesArePinned() {
        Fid fid = Fid.newBuilder().setVolumeId(3).setNeedleId(0x1234).setCookie(0xCAFEBABE).build();
        assertThat(java.util.HexFormat.of().formatHex(fid.toByteArray())).isEqualTo("080310b4241dbebafeca");
    }

    /** The replication stream's records and answers, and the one-message write: pinned like Fid. */
    @Test
    void replicationAndSmallWriteBytesArePinned() {
        Fid fid = Fid.newBuilder().setVolumeId(3).setNeedleId(0x1234).setCookie(0xCAFEBABE).build();
        io.hayloft.proto.v1.ReplicateRequest record = io.hayloft.proto.v1.ReplicateRequest.newBuilder().setId(7)
                .setFid(fid).setSequence(9).setTombstone(true)
                .setData(com.google.protobuf.ByteString.copyFromUtf8("ab")).setCrc32C(0x01020304).build();
        assertThat(java.util.HexFormat.of().formatHex(record.toByteArray()))
                .isEqualTo("0807120a080310b4241dbebafeca18092001" + "2a026162" + "3504030201");
        io.hayloft.proto.v1.ReplicateResponse applied = io.hayloft.proto.v1.ReplicateResponse.newBuilder().setId(7)
                .setSequence(9).build();
        assertThat(java.util.HexFormat.of().formatHex(applied.toByteArray())).isEqualTo("08071009");
        io.hayloft.proto.v1.ReplicateResponse failed = io.hayloft.proto.v1.ReplicateResponse.newBuilder().setId(7)
                .setError(Error.newBuilder().setCode(ErrorCode.UNAVAILABLE).setMessage("x")).build();
        assertThat(java.util.HexFormat.of().formatHex(failed.toByteArray())).isEqualTo("08071a050829120178");
        io.hayloft.proto.v1.WriteSmallNeedleRequest small = io.hayloft.proto.v1.WriteSmallNeedleRequest.newBuilder()
                .setHeader(io.hayloft.proto.v1.WriteHeader.newBuilder().setFid(fid).setLength(2)
                        .setCrc32C(0x01020304))
                .setData(com.google.protobuf.ByteString.copyFromUtf8("ab")).build();
        assertThat(java.util.HexFormat.of().formatHex(small.toByteArray()))
                .isEqualTo("0a130a0a080310b4241dbebafeca10021d04030201" + "12026162");
    }
}

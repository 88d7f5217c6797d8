package io.hayloft.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Shared helpers for the volume tests. */
final class VolumeTestSupport {
    private VolumeTestSupport() {}

    static VolumeConfig config(boolean fsync) {
        return VolumeConfig.defaults().withFsync(fsync).withVolumeSizeBytesMax(1L << 30).withReadPieceBytes(64 << 10);
    }

    /** Deterministic bytes for a needle, so that a read can be checked without keeping them. */
    static byte[] bytes(long needleId, int length) {
        byte[] b = new byte[length];
        new Random(needleId * 31 + length).nextBytes(b);
        return b;
    }

    static byte[] toArray(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** A failpoint that throws an I/O error with the given message at one point while armed. */
    static final class ArmedIoFailure implements Failpoints {
        private final String point;
        private final String message;
        volatile boolean armed;

        ArmedIoFailure(String point, String message) {
            this.point = point;
            this.message = message;
        }

        @Override
        public void hit(String name) throws java.io.IOException {
            if (armed && name.equals(point)) {
                throw new java.io.IOException(message);
            }
        }
    }

    static void assertCode(VolumeErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(VolumeException.class)
                .satisfies(e -> assertThat(((VolumeException) e).code()).isEqualTo(code));
    }
}

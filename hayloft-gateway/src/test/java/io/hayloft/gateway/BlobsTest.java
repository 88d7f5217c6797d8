package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.client.HayloftException;
import io.hayloft.proto.v1.ErrorCode;
import org.junit.jupiter.api.Test;

/** Which failures to name an object prove that the name was not committed (so its blobs may go). */
class BlobsTest {
    @Test
    void refusalsFreeTheBlobsButAmbiguousFailuresKeepThem() {
        assertThat(Blobs.definitelyNotCommitted(new S3Exception(S3Error.BAD_DIGEST))).isTrue();
        for (ErrorCode refused : new ErrorCode[] {ErrorCode.NO_SUCH_BUCKET, ErrorCode.BAD_REQUEST,
                ErrorCode.NO_SUCH_UPLOAD}) {
            assertThat(Blobs.definitelyNotCommitted(new HayloftException(refused, "refused"))).as("%s", refused).isTrue();
        }
        // The change may have been applied before the answer was lost.
        for (ErrorCode maybe : new ErrorCode[] {ErrorCode.UNAVAILABLE, ErrorCode.NOT_LEADER, ErrorCode.INTERNAL,
                ErrorCode.IO_ERROR}) {
            assertThat(Blobs.definitelyNotCommitted(new HayloftException(maybe, "lost"))).as("%s", maybe).isFalse();
        }
        assertThat(Blobs.definitelyNotCommitted(new IllegalStateException("anything else"))).isFalse();
    }
}

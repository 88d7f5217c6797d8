package io.hayloft.cli.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import java.net.ConnectException;
import java.net.URI;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** S3 failures as exit codes and messages, and the s3:// addresses the commands take. */
class CliS3FailuresTest {
    private static final URI ENDPOINT = URI.create("http://127.0.0.1:9000");

    private static S3Exception s3(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("text of " + code).build())
                .build();
    }

    @Test
    void failuresMapToTheirExitCodes() {
        CliException missing = S3Failures.of(s3(404, "NoSuchKey"), "s3://b/k", ENDPOINT);
        assertThat(missing.exitCode()).isEqualTo(Exit.NOT_FOUND);
        assertThat(missing.getMessage()).isEqualTo("not found: s3://b/k");
        assertThat(S3Failures.of(s3(404, "NoSuchBucket"), "s3://b", ENDPOINT).getMessage())
                .isEqualTo("no such bucket: s3://b");
        CliException denied = S3Failures.of(s3(403, "SignatureDoesNotMatch"), "s3://b/k", ENDPOINT);
        assertThat(denied.exitCode()).isEqualTo(Exit.AUTH);
        assertThat(denied.getMessage()).contains("SignatureDoesNotMatch", "HAYLOFT_ACCESS_KEY");
        assertThat(S3Failures.of(s3(409, "BucketNotEmpty"), "s3://b", ENDPOINT).exitCode()).isEqualTo(Exit.FAILURE);
        CliException down = S3Failures.of(SdkClientException.create("unable to execute",
                new ConnectException("Connection refused")), "s3://b", ENDPOINT);
        assertThat(down.exitCode()).isEqualTo(Exit.UNREACHABLE);
        assertThat(down.getMessage()).isEqualTo("cannot reach http://127.0.0.1:9000: Connection refused");
    }

    @Test
    void addressesAreParsedAndCheckedForTheirKind() {
        assertThat(S3Url.parse("s3://b")).isEqualTo(new S3Url("b", ""));
        assertThat(S3Url.parse("s3://b/dir/file.txt")).isEqualTo(new S3Url("b", "dir/file.txt"));
        assertThat(S3Url.object("s3://b/k").toString()).isEqualTo("s3://b/k");
        for (Runnable bad : new Runnable[] {() -> S3Url.parse("b/k"), () -> S3Url.parse("s3:///k"),
            () -> S3Url.object("s3://b/"), () -> S3Url.bucketOnly("s3://b/k")}) {
            try {
                bad.run();
                throw new AssertionError("accepted a bad address");
            } catch (CliException e) {
                assertThat(e.exitCode()).isEqualTo(Exit.USAGE);
            }
        }
    }
}

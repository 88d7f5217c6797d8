package io.hayloft.cli.s3;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.s3.S3Client;

/** {@code hayloft rb s3://bucket}: removes an empty bucket. */
@Command(name = "rb", description = "Remove a bucket (it must be empty).")
public final class RbCommand extends S3Command {
    @Parameters(paramLabel = "s3://BUCKET")
    String bucket;

    @Override
    String target() {
        return bucket;
    }

    @Override
    int run(S3Client s3) {
        S3Url url = S3Url.bucketOnly(bucket);
        s3.deleteBucket(b -> b.bucket(url.bucket()));
        out().println("removed bucket " + url);
        return 0;
    }
}

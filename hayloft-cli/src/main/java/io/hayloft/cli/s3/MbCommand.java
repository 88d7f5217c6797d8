package io.hayloft.cli.s3;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.s3.S3Client;

/** {@code hayloft mb s3://bucket}: makes a bucket. */
@Command(name = "mb", description = "Make a bucket.")
public final class MbCommand extends S3Command {
    @Parameters(paramLabel = "s3://BUCKET")
    String bucket;

    @Override
    String target() {
        return bucket;
    }

    @Override
    int run(S3Client s3) {
        S3Url url = S3Url.bucketOnly(bucket);
        s3.createBucket(b -> b.bucket(url.bucket()));
        out().println("made bucket " + url);
        return 0;
    }
}

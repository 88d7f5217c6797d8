package io.hayloft.cli.s3;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code hayloft rm s3://bucket/key}: removes an object. S3 answers a delete of a missing key
 * with success, so the object is looked up first: a missing one is reported as not found.
 */
@Command(name = "rm", description = "Remove an object.")
public final class RmCommand extends S3Command {
    @Parameters(paramLabel = "s3://BUCKET/KEY")
    String object;

    @Override
    String target() {
        return object;
    }

    @Override
    int run(S3Client s3) {
        S3Url url = S3Url.object(object);
        s3.headObject(h -> h.bucket(url.bucket()).key(url.key()));
        s3.deleteObject(d -> d.bucket(url.bucket()).key(url.key()));
        out().println("removed " + url);
        return 0;
    }
}

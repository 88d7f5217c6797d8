package io.hayloft.cli.s3;

import io.hayloft.cli.Bytes;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/** {@code hayloft stat s3://bucket/key}: an object's size, ETag, content type, time and metadata. */
@Command(name = "stat", description = "Show an object's size, ETag, content type, modification time and metadata.")
public final class StatCommand extends S3Command {
    @Parameters(paramLabel = "s3://BUCKET/KEY")
    String object;

    @Override
    String target() {
        return object;
    }

    @Override
    int run(S3Client s3) {
        S3Url url = S3Url.object(object);
        HeadObjectResponse h = s3.headObject(r -> r.bucket(url.bucket()).key(url.key()));
        out().println(url);
        line("size", h.contentLength() + " (" + Bytes.human(h.contentLength()) + ")");
        line("etag", h.eTag());
        line("content type", h.contentType());
        line("modified", String.valueOf(h.lastModified()));
        Map<String, String> metadata = new TreeMap<>(h.metadata());
        if (metadata.isEmpty()) {
            line("metadata", "(none)");
        }
        metadata.forEach((k, v) -> line("metadata", k + "=" + v));
        return 0;
    }

    private void line(String name, String value) {
        out().printf("  %-13s %s%n", name, value == null ? "" : value);
    }
}

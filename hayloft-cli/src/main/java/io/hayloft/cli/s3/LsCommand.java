package io.hayloft.cli.s3;

import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@code hayloft ls [s3://bucket[/prefix]]}: the buckets, or the objects of a bucket under a
 * prefix, one level at a time ({@code PRE} lines for deeper prefixes) unless {@code -r}.
 */
@Command(name = "ls", description = "List buckets, or the objects of a bucket under a prefix.")
public final class LsCommand extends S3Command {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());

    @Parameters(paramLabel = "s3://BUCKET[/PREFIX]", arity = "0..1")
    String location;

    @Option(names = {"-r", "--recursive"}, description = "List every object under the prefix, at any depth.")
    boolean recursive;

    @Override
    String target() {
        return location == null ? "buckets" : location;
    }

    @Override
    int run(S3Client s3) {
        if (location == null) {
            s3.listBuckets().buckets().forEach(b -> out().printf("%s  %s%n", time(b.creationDate()), b.name()));
            return 0;
        }
        S3Url url = S3Url.parse(location);
        for (ListObjectsV2Response page : s3.listObjectsV2Paginator(r -> r.bucket(url.bucket()).prefix(url.key())
                .delimiter(recursive ? null : "/"))) {
            for (CommonPrefix p : page.commonPrefixes()) {
                out().printf("%19s  %12s  %s%n", "", "PRE", p.prefix());
            }
            for (S3Object o : page.contents()) {
                out().printf("%s  %12d  %s%n", time(o.lastModified()), o.size(), o.key());
            }
        }
        return 0;
    }

    private static String time(Instant t) {
        return t == null ? "" : TIME.format(t);
    }
}

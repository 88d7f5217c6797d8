package io.hayloft.cli.s3;

import io.hayloft.cli.Bytes;
import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * {@code hayloft put FILE s3://bucket/key}: uploads a file, in one request up to the part size
 * and as a multipart upload above it ({@link MultipartUpload}).
 */
@Command(name = "put", description = "Upload a file as an object (multipart when larger than the part size).")
public final class PutCommand extends S3Command {
    static final long PART_BYTES_MIN = 5L << 20;
    static final long PART_BYTES_MAX = 5L << 30;

    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Parameters(index = "1", paramLabel = "s3://BUCKET/KEY",
            description = "Where to; a key ending in / (or none) gets the file's name appended.")
    String object;

    @Option(names = "--content-type", paramLabel = "TYPE", description = "Content type (default: guessed from the file name).")
    String contentType;

    @Option(names = {"-m", "--metadata"}, paramLabel = "KEY=VALUE", description = "User metadata; may be repeated.")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(names = "--part-size", paramLabel = "BYTES", defaultValue = "8388608",
            description = "Multipart part size in bytes, 5 MiB to 5 GiB (default: ${DEFAULT-VALUE}).")
    long partBytes;

    @Option(names = "--no-progress", description = "Never draw a progress bar.")
    boolean noProgress;

    @Override
    String target() {
        return object;
    }

    @Override
    int run(S3Client s3) throws IOException {
        if (partBytes < PART_BYTES_MIN || partBytes > PART_BYTES_MAX) {
            throw CliException.usage("--part-size must be 5 MiB to 5 GiB, got " + partBytes);
        }
        if (!Files.isRegularFile(file)) {
            throw new CliException(Exit.NOT_FOUND, "no such file: " + file);
        }
        S3Url url = destination();
        long size = Files.size(file);
        String type = contentType != null ? contentType : guessType();
        PutObjectRequest request = PutObjectRequest.builder().bucket(url.bucket()).key(url.key()).contentType(type)
                .metadata(metadata).build();
        String etag;
        if (size <= partBytes) {
            etag = s3.putObject(request, RequestBody.fromFile(file)).eTag();
        } else {
            etag = new MultipartUpload(s3, request, file, size, partBytes,
                    Transfers.showProgress(size, noProgress)).run();
        }
        out().println("uploaded " + file + " to " + url + " (" + Bytes.human(size) + ", etag " + etag + ")");
        return 0;
    }

    private S3Url destination() {
        S3Url url = S3Url.parse(object);
        if (url.key().isEmpty() || url.key().endsWith("/")) {
            return new S3Url(url.bucket(), url.key() + file.getFileName());
        }
        return url;
    }

    private String guessType() throws IOException {
        String probed = Files.probeContentType(file);
        return probed != null ? probed : "application/octet-stream";
    }
}

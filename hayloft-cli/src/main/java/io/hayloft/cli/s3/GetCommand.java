package io.hayloft.cli.s3;

import io.hayloft.cli.Bytes;
import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * {@code hayloft get s3://bucket/key [FILE|-]}: downloads an object to a file (by default the
 * key's last segment in the current directory) or, with {@code -}, to standard output. A file
 * is written under a temporary name and renamed when complete, so a failed download leaves no
 * truncated file behind.
 */
@Command(name = "get", description = "Download an object to a file, or to standard output with -.")
public final class GetCommand extends S3Command {
    @Parameters(index = "0", paramLabel = "s3://BUCKET/KEY")
    String object;

    @Parameters(index = "1", arity = "0..1", paramLabel = "FILE|-",
            description = "Where to (default: the key's last segment, here; a directory gets that name in it).")
    String destination;

    @Option(names = "--no-progress", description = "Never draw a progress bar.")
    boolean noProgress;

    @Override
    String target() {
        return object;
    }

    @Override
    int run(S3Client s3) throws IOException {
        S3Url url = S3Url.object(object);
        boolean toStdout = "-".equals(destination);
        Path file = toStdout ? null : file(url);
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(g -> g.bucket(url.bucket()).key(url.key()))) {
            long size = in.response().contentLength();
            if (toStdout) {
                in.transferTo(System.out);
                System.out.flush();
                return 0;
            }
            boolean progress = Transfers.showProgress(size, noProgress);
            save(progress ? ProgressBar.wrap(in, Transfers.bar("get", size)) : in, file);
            out().println("downloaded " + url + " to " + file + " (" + Bytes.human(size) + ")");
        }
        return 0;
    }

    private Path file(S3Url url) {
        String name = url.key().substring(url.key().lastIndexOf('/') + 1);
        if (destination == null || Files.isDirectory(Path.of(destination))) {
            if (name.isEmpty()) {
                throw CliException.usage("the key " + url.key() + " has no file name; give FILE");
            }
            return destination == null ? Path.of(name) : Path.of(destination).resolve(name);
        }
        return Path.of(destination);
    }

    private static void save(InputStream in, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            throw new CliException(Exit.NOT_FOUND, "no such directory: " + dir);
        }
        Path partial = Files.createTempFile(dir, "." + file.getFileName(), ".part");
        try {
            try (InputStream source = in; OutputStream out = Files.newOutputStream(partial)) {
                source.transferTo(out);
            }
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }
}

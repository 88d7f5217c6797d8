package io.hayloft.cli.s3;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import me.tongfei.progressbar.ProgressBar;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * One file uploaded as an S3 multipart upload: create, parts in parallel, complete; aborted when
 * any part fails, so that no half-upload is left behind.
 *
 * <p>At most {@link #PARTS_IN_FLIGHT} parts are in memory at once, each read whole from the
 * file before it is sent, so memory stays bounded by that many part sizes.
 */
final class MultipartUpload {
    static final int PARTS_IN_FLIGHT = 4;
    private static final int PARTS_MAX = 10_000;

    private final S3Client s3;
    private final PutObjectRequest object;
    private final Path file;
    private final long size;
    private final long partBytes;
    private final boolean progress;

    MultipartUpload(S3Client s3, PutObjectRequest object, Path file, long size, long partBytes, boolean progress) {
        this.s3 = s3;
        this.object = object;
        this.file = file;
        this.size = size;
        // S3 allows 10,000 parts: a huge file gets larger parts.
        this.partBytes = Math.max(partBytes, (size + PARTS_MAX - 1) / PARTS_MAX);
        this.progress = progress;
    }

    /** Uploads the file; returns the object's ETag. */
    String run() {
        String uploadId = s3.createMultipartUpload(c -> c.bucket(object.bucket()).key(object.key())
                .contentType(object.contentType()).metadata(object.metadata())).uploadId();
        try (ProgressBar bar = progress ? Transfers.start("put", size) : null) {
            List<CompletedPart> parts = uploadParts(uploadId, bar);
            return s3.completeMultipartUpload(c -> c.bucket(object.bucket()).key(object.key()).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts))).eTag();
        } catch (RuntimeException e) {
            abort(uploadId);
            throw e;
        }
    }

    private List<CompletedPart> uploadParts(String uploadId, ProgressBar bar) {
        int count = (int) ((size + partBytes - 1) / partBytes);
        ExecutorService pool = Executors.newFixedThreadPool(PARTS_IN_FLIGHT);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            List<Future<CompletedPart>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int number = i + 1;
                long offset = i * partBytes;
                int length = (int) Math.min(partBytes, size - offset);
                futures.add(pool.submit(() -> uploadPart(uploadId, channel, number, offset, length, bar)));
            }
            List<CompletedPart> parts = new ArrayList<>();
            for (Future<CompletedPart> f : futures) {
                parts.add(f.get());
            }
            return parts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(Exit.FAILURE, "interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new UncheckedIOException(new IOException(e.getCause()));
        } finally {
            pool.shutdownNow();
        }
    }

    private CompletedPart uploadPart(String uploadId, FileChannel channel, int number, long offset, int length,
            ProgressBar bar) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(length);
        while (data.hasRemaining()) {
            if (channel.read(data, offset + data.position()) < 0) {
                throw new IOException(file + " shrank while it was being uploaded");
            }
        }
        data.flip();
        String etag = s3.uploadPart(p -> p.bucket(object.bucket()).key(object.key()).uploadId(uploadId)
                .partNumber(number).contentLength((long) length), RequestBody.fromByteBuffer(data)).eTag();
        if (bar != null) {
            bar.stepBy(length);
        }
        return CompletedPart.builder().partNumber(number).eTag(etag).build();
    }

    private void abort(String uploadId) {
        try {
            s3.abortMultipartUpload(a -> a.bucket(object.bucket()).key(object.key()).uploadId(uploadId));
        } catch (SdkException e) {
            // The failure of the upload itself is the one to report.
        }
    }
}

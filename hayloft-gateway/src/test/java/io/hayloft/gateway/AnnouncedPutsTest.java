package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ObjectInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The gateway announces the name of a small PUT while it stores the body, passes the
 * announcement with the name, and closes every announcement it made, whether the PUT succeeded
 * or failed: an announcement left open would hold meta's batches back.
 */
class AnnouncedPutsTest {
    @TempDir
    Path dir;

    /** Names that count the announcements made, those still open, and the names put with one. */
    private static final class Counting extends ForwardingNames {
        final AtomicInteger made = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger putWithOne = new AtomicInteger();

        Counting(ObjectNames names) {
            super(names);
        }

        @Override
        public Announcement announcePut() {
            made.incrementAndGet();
            open.incrementAndGet();
            AtomicBoolean closed = new AtomicBoolean();
            return () -> {
                if (closed.compareAndSet(false, true)) {
                    open.decrementAndGet();
                }
            };
        }

        @Override
        public List<Chunk> put(ObjectInfo object, Announcement announcement) {
            if (announcement != Announcement.NONE) {
                putWithOne.incrementAndGet();
            }
            return names.put(object);
        }
    }

    @Test
    void smallPutsAreAnnouncedAndEveryAnnouncementIsClosed() throws Exception {
        Counting[] names = new Counting[1];
        GatewayFixture f = GatewayFixture.start(dir, GatewayFixture.config(),
                remote -> names[0] = new Counting(remote));
        try {
            Counting counting = names[0];
            S3Client s3 = f.s3();
            s3.createBucket(b -> b.bucket("announced"));

            s3.putObject(b -> b.bucket("announced").key("small"), RequestBody.fromString("hello"));
            assertThat(counting.made).hasValue(1);
            assertThat(counting.putWithOne).hasValue(1);
            assertThat(counting.open).hasValue(0);

            // Refused after the body was stored: the announcement is closed all the same.
            assertThatThrownBy(() -> s3.putObject(b -> b.bucket("announced").key("digest")
                    .contentMD5("AAAAAAAAAAAAAAAAAAAAAA=="), RequestBody.fromString("hello")))
                    .isInstanceOfSatisfying(S3Exception.class,
                            e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("BadDigest"));
            assertThat(counting.made).hasValue(2);
            assertThat(counting.putWithOne).hasValue(1);
            assertThat(counting.open).hasValue(0);

            // A large body takes longer than a batch waits: it is not announced.
            s3.putObject(b -> b.bucket("announced").key("large"), RequestBody.fromBytes(new byte[2 << 20]));
            assertThat(counting.made).hasValue(2);
            assertThat(counting.open).hasValue(0);
            assertThat(s3.getObjectAsBytes(b -> b.bucket("announced").key("large")).asByteArray()).hasSize(2 << 20);
        } finally {
            f.close();
        }
    }
}

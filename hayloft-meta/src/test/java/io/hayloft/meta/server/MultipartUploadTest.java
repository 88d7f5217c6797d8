package io.hayloft.meta.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hayloft.client.HayloftException;
import io.hayloft.client.MetaClient;
import io.hayloft.meta.raft.MetaGroup;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CompleteMultipartUploadRequest;
import io.hayloft.proto.v1.CompleteMultipartUploadResponse;
import io.hayloft.proto.v1.CompletedPart;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ListMultipartUploadsRequest;
import io.hayloft.proto.v1.ListMultipartUploadsResponse;
import io.hayloft.proto.v1.ListPartsRequest;
import io.hayloft.proto.v1.ListPartsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.UploadInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Multipart uploads through {@link MetaClient} against three meta peers on loopback. */
class MultipartUploadTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private MetaGroup group;
    private MetaClient client;

    @BeforeEach
    void start() throws IOException {
        group = MetaGroup.start(dir, 3, 20);
        client = MetaClient.connect(group.apiAddresses());
        await().atMost(Duration.ofSeconds(30)).until(() -> group.leaderIndex() >= 0);
        client.createBucket("videos");
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        group.close();
    }

    private static void assertCode(ErrorCode code, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(HayloftException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }

    private static ObjectInfo template(String key) {
        return ObjectInfo.newBuilder().setBucket("videos").setKey(key).setContentType("video/mp4")
                .putUserMetadata("camera", "front").build();
    }

    private static Chunk chunk(long needle, long length) {
        return Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(needle).setCookie(5))
                .setLength(length).build();
    }

    private static PartInfo part(int number, long size, long needle, String etag) {
        return PartInfo.newBuilder().setPartNumber(number).setSize(size).setEtag(etag).addChunks(chunk(needle, size))
                .build();
    }

    private static String md5Hex(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes()));
    }

    private static CompleteMultipartUploadRequest completion(UploadInfo u, String... etags) {
        CompleteMultipartUploadRequest.Builder r = CompleteMultipartUploadRequest.newBuilder().setBucket(u.getBucket())
                .setKey(u.getKey()).setUploadId(u.getUploadId()).setMinPartSize(5 * MIB);
        for (int i = 0; i < etags.length; i++) {
            r.addParts(CompletedPart.newBuilder().setPartNumber(i + 1).setEtag("\"" + etags[i] + "\""));
        }
        return r.build();
    }

    @Test
    void createPutListCompleteAndRead() throws Exception {
        client.putObject(ObjectInfo.newBuilder().setBucket("videos").setKey("clip.mp4").setSize(1)
                .addChunks(chunk(1, 1)).build());
        UploadInfo u = client.createMultipartUpload(template("clip.mp4"));
        assertThat(u.getUploadId()).matches("[A-Za-z0-9_-]{22}");
        assertThat(u.getInitiatedMs()).isPositive();
        assertThat(client.createMultipartUpload(template("clip.mp4")).getUploadId()).isNotEqualTo(u.getUploadId());

        String[] etags = {md5Hex("one"), md5Hex("two"), md5Hex("three")};
        assertThat(client.putPart("videos", "clip.mp4", u.getUploadId(), part(1, 5 * MIB, 10, etags[0]))).isEmpty();
        assertThat(client.putPart("videos", "clip.mp4", u.getUploadId(), part(2, 5 * MIB, 19, etags[1]))).isEmpty();
        assertThat(client.putPart("videos", "clip.mp4", u.getUploadId(), part(2, 5 * MIB, 20, etags[1])))
                .containsExactly(chunk(19, 5 * MIB));
        assertThat(client.putPart("videos", "clip.mp4", u.getUploadId(), part(3, 7, 30, etags[2]))).isEmpty();

        ListPartsResponse page = client.listParts(ListPartsRequest.newBuilder().setBucket("videos")
                .setKey("clip.mp4").setUploadId(u.getUploadId()).setLimit(2).build());
        assertThat(page.getPartsList()).extracting(PartInfo::getPartNumber).containsExactly(1, 2);
        assertThat(page.getTruncated()).isTrue();
        assertThat(page.getUpload()).isEqualTo(u);
        page = client.listParts(ListPartsRequest.newBuilder().setBucket("videos").setKey("clip.mp4")
                .setUploadId(u.getUploadId()).setPartNumberMarker(page.getNextPartNumberMarker()).build());
        assertThat(page.getPartsList()).extracting(PartInfo::getPartNumber).containsExactly(3);
        assertThat(page.getParts(0).getModifiedMs()).isPositive();

        assertCode(ErrorCode.BAD_REQUEST, () -> client.listParts(ListPartsRequest.newBuilder().setBucket("videos")
                .setKey("clip.mp4").setUploadId(u.getUploadId()).setLimit(1001).build()));

        ListMultipartUploadsResponse listed = client.listMultipartUploads(
                ListMultipartUploadsRequest.newBuilder().setBucket("videos").build());
        assertThat(listed.getUploadsList()).hasSize(2).contains(u);

        assertCode(ErrorCode.INVALID_PART, () -> client.completeMultipartUpload(completion(u, etags[0], etags[0],
                etags[2])));
        assertCode(ErrorCode.ENTITY_TOO_SMALL, () -> client.completeMultipartUpload(completion(u, etags[0], etags[1],
                etags[2]).toBuilder().setMinPartSize(5 * MIB + 1).build()));
        CompleteMultipartUploadResponse done = client.completeMultipartUpload(completion(u, etags));

        MessageDigest md5 = MessageDigest.getInstance("MD5");
        for (String e : etags) {
            md5.update(HexFormat.of().parseHex(e));
        }
        ObjectInfo o = client.getObject("videos", "clip.mp4");
        assertThat(o).isEqualTo(done.getObject());
        assertThat(o.getEtag()).isEqualTo(HexFormat.of().formatHex(md5.digest()) + "-3");
        assertThat(o.getSize()).isEqualTo(10 * MIB + 7);
        assertThat(o.getChunksList()).extracting(Chunk::getOffset).containsExactly(0L, 5 * MIB, 10 * MIB);
        assertThat(o.getContentType()).isEqualTo("video/mp4");
        assertThat(done.getFreedList()).containsExactly(chunk(1, 1));

        // Retried after it applied: the upload is gone, as in S3.
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> client.completeMultipartUpload(completion(u, etags)));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> client.putPart("videos", "clip.mp4", u.getUploadId(),
                part(4, 1, 40, etags[0])));
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> client.createMultipartUpload(template("x").toBuilder()
                .setBucket("nope").build()));
        assertThat(client.listMultipartUploads(ListMultipartUploadsRequest.newBuilder().setBucket("videos").build())
                .getUploadsList()).hasSize(1).doesNotContain(u);
    }

    @Test
    void abortFreesThePartsAndLetsTheBucketGo() throws Exception {
        UploadInfo u = client.createMultipartUpload(template("clip.mp4"));
        client.putPart("videos", "clip.mp4", u.getUploadId(), part(1, 5 * MIB, 10, md5Hex("one")));
        client.putPart("videos", "clip.mp4", u.getUploadId(), part(2, 3, 20, md5Hex("two")));
        assertCode(ErrorCode.BUCKET_NOT_EMPTY, () -> client.deleteBucket("videos"));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> client.abortMultipartUpload("videos", "other", u.getUploadId()));

        assertThat(client.abortMultipartUpload("videos", "clip.mp4", u.getUploadId()))
                .containsExactly(chunk(10, 5 * MIB), chunk(20, 3));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> client.abortMultipartUpload("videos", "clip.mp4", u.getUploadId()));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> client.listParts(ListPartsRequest.newBuilder().setBucket("videos")
                .setKey("clip.mp4").setUploadId(u.getUploadId()).build()));
        client.deleteBucket("videos");
    }

    /** A peer that was down while an upload went on catches up, keeps it through a restart from its snapshot. */
    @Test
    void uploadsSurviveSnapshotsAndRestarts() throws Exception {
        int leader = group.leaderIndex();
        int follower = (leader + 1) % 3;
        group.stopPeer(follower);
        UploadInfo u = client.createMultipartUpload(template("clip.mp4"));
        String etag = md5Hex("one");
        client.putPart("videos", "clip.mp4", u.getUploadId(), part(1, 5, 10, etag));
        for (int i = 0; i < 60; i++) {
            client.putObject(ObjectInfo.newBuilder().setBucket("videos").setKey("filler" + i).build());
        }
        group.restartPeer(follower);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> group.node(follower).readLocal(
                s -> s.uploads().listParts("videos", "clip.mp4", u.getUploadId(), 0, 10).getPartsCount()) == 1);
        for (int i = 0; i < 30; i++) {
            client.putObject(ObjectInfo.newBuilder().setBucket("videos").setKey("late" + i).build());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> group.node(follower).readLocal(
                s -> s.names().listObjects("videos", "late", "", "", 100).getObjectsCount()) == 30);
        try (var files = Files.walk(group.peerDirectory(follower))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("snapshot.")))
                    .as("the follower took snapshots").isNotEmpty();
        }

        // The follower reloads from its snapshot, then the leader goes: the upload completes on a new leader.
        group.stopPeer(follower);
        group.restartPeer(follower);
        group.stopPeer(leader);
        ObjectInfo o = client.completeMultipartUpload(completion(u, etag)).getObject();
        assertThat(o.getSize()).isEqualTo(5);
        assertThat(client.getObject("videos", "clip.mp4")).isEqualTo(o);
    }
}

package io.hayloft.meta.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.BucketInfo;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CompleteMultipartUploadResponse;
import io.hayloft.proto.v1.CompletedPart;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ListMultipartUploadsResponse;
import io.hayloft.proto.v1.ListPartsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.UploadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

class UploadTableTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private MetaDb db;
    private NameTable names;
    private UploadTable uploads;

    @BeforeEach
    void open() throws MetaException {
        db = MetaDb.open(dir.resolve("db"));
        names = new NameTable(db);
        uploads = new UploadTable(db, names);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(MetaException.class)
                .satisfies(e -> assertThat(((MetaException) e).code()).isEqualTo(code));
    }

    private static ObjectInfo template(String bucket, String key) {
        return ObjectInfo.newBuilder().setBucket(bucket).setKey(key).setContentType("video/mp4")
                .putUserMetadata("camera", "front").putHeaders("Cache-Control", "no-cache").build();
    }

    private static Chunk chunk(long needle, long offset, long length) {
        return Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(3).setNeedleId(needle).setCookie(9))
                .setOffset(offset).setLength(length).build();
    }

    private static String md5Hex(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    /** A part of {@code size} bytes in two chunks (needles {@code needle} and {@code needle + 1}). */
    private static PartInfo part(int number, long size, long needle, String etag) {
        return PartInfo.newBuilder().setPartNumber(number).setSize(size).setEtag(etag)
                .addChunks(chunk(needle, 0, size / 2)).addChunks(chunk(needle + 1, size / 2, size - size / 2)).build();
    }

    private static PartInfo part(int number, long size, long needle) {
        return part(number, size, needle, "0123456789abcdef0123456789abcdef");
    }

    private static CompletedPart named(int number, String etag) {
        return CompletedPart.newBuilder().setPartNumber(number).setEtag(etag).build();
    }

    private static List<Long> needles(List<Chunk> chunks) {
        return chunks.stream().map(c -> c.getFid().getNeedleId()).toList();
    }

    @Test
    void createKeepsTheTemplateAndChecksBucketAndKey() throws Exception {
        names.createBucket("videos", 1);
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> uploads.create(template("nope", "k"), "u1", 5));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.create(template("videos", ""), "u1", 5));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.create(template("videos", "k".repeat(1025)), "u1", 5));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.create(template("videos", "a\0b"), "u1", 5));

        ObjectInfo withJunk = template("videos", "clip.mp4").toBuilder().addChunks(chunk(1, 0, 1)).setSize(1)
                .setEtag("x").setModifiedMs(2).build();
        UploadInfo u = uploads.create(withJunk, "u1", 1234);
        assertThat(u.getBucket()).isEqualTo("videos");
        assertThat(u.getKey()).isEqualTo("clip.mp4");
        assertThat(u.getUploadId()).isEqualTo("u1");
        assertThat(u.getInitiatedMs()).isEqualTo(1234);
        assertThat(u.getObject()).isEqualTo(template("videos", "clip.mp4"));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.create(template("videos", "other"), "u1", 1235));

        // Several uploads of one key at once.
        uploads.create(template("videos", "clip.mp4"), "u2", 1300);
        assertThat(uploads.listUploads("videos", "", "", "", "", 1000).getUploadsList())
                .extracting(UploadInfo::getUploadId).containsExactly("u1", "u2");
    }

    @Test
    void partsAreRecordedReplacedAndListed() throws Exception {
        names.createBucket("videos", 1);
        uploads.create(template("videos", "clip.mp4"), "u1", 10);
        uploads.create(template("videos", "other.mp4"), "u2", 10);

        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.putPart("videos", "clip.mp4", "u1", part(0, 10, 1), 20));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.putPart("videos", "clip.mp4", "u1", part(10_001, 10, 1), 20));
        assertCode(ErrorCode.BAD_REQUEST,
                () -> uploads.putPart("videos", "clip.mp4", "u1", part(1, 10, 1, "\"x\""), 20));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.putPart("videos", "clip.mp4", "nope", part(1, 10, 1), 20));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.putPart("videos", "clip.mp4", "u2", part(1, 10, 1), 20));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.putPart("videos", "clip.mp4", "", part(1, 10, 1), 20));
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> uploads.putPart("nope", "clip.mp4", "u1", part(1, 10, 1), 20));

        assertThat(uploads.putPart("videos", "clip.mp4", "u1", part(10_000, 10, 100), 20)).isEmpty();
        for (int n = 5; n >= 1; n--) {
            assertThat(uploads.putPart("videos", "clip.mp4", "u1", part(n, 10, n * 10L), 20 + n)).isEmpty();
        }
        // Replacing part 3 frees the old part's needles; a retry of that put frees nothing.
        assertThat(needles(uploads.putPart("videos", "clip.mp4", "u1", part(3, 10, 300), 40)))
                .containsExactly(30L, 31L);
        assertThat(uploads.putPart("videos", "clip.mp4", "u1", part(3, 10, 300), 41)).isEmpty();
        // A replacement that keeps one needle frees only the other.
        PartInfo sharing = part(3, 10, 300).toBuilder().setChunks(1, chunk(999, 5, 5)).build();
        assertThat(needles(uploads.putPart("videos", "clip.mp4", "u1", sharing, 42))).containsExactly(301L);

        ListPartsResponse all = uploads.listParts("videos", "clip.mp4", "u1", 0, 1000);
        assertThat(all.getUpload().getUploadId()).isEqualTo("u1");
        assertThat(all.getPartsList()).extracting(PartInfo::getPartNumber).containsExactly(1, 2, 3, 4, 5, 10_000);
        assertThat(all.getTruncated()).isFalse();
        assertThat(all.getParts(2).getModifiedMs()).isEqualTo(42);
        assertThat(all.getParts(0).getModifiedMs()).isEqualTo(21);

        ListPartsResponse page = uploads.listParts("videos", "clip.mp4", "u1", 1, 2);
        assertThat(page.getPartsList()).extracting(PartInfo::getPartNumber).containsExactly(2, 3);
        assertThat(page.getTruncated()).isTrue();
        assertThat(page.getNextPartNumberMarker()).isEqualTo(3);
        page = uploads.listParts("videos", "clip.mp4", "u1", 5, 1);
        assertThat(page.getPartsList()).extracting(PartInfo::getPartNumber).containsExactly(10_000);
        assertThat(page.getTruncated()).isFalse();
        assertThat(uploads.listParts("videos", "clip.mp4", "u1", 10_000, 10).getPartsList()).isEmpty();
        assertThat(uploads.listParts("videos", "clip.mp4", "u1", -1, 10).getPartsList()).isEmpty();
        assertThat(uploads.listParts("videos", "other.mp4", "u2", 0, 10).getPartsList()).isEmpty();

        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.listParts("videos", "clip.mp4", "u1", 0, 0));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.listParts("videos", "clip.mp4", "u1", 0, 1001));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.listParts("videos", "clip.mp4", "u2", 0, 10));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.listParts("videos", "clip.mp4", "u3", 0, 10));
    }

    @Test
    void completingNamesTheAssembledObjectAndForgetsTheUpload() throws Exception {
        names.createBucket("videos", 1);
        names.putObject(ObjectInfo.newBuilder().setBucket("videos").setKey("clip.mp4").setSize(3)
                .addChunks(chunk(7, 0, 3)).build());
        uploads.create(template("videos", "clip.mp4"), "u1", 10);
        byte[][] data = new byte[3][];
        String[] etags = new String[3];
        Random random = new Random(42);
        long[] sizes = {5 * MIB, 6 * MIB, 1234};
        for (int i = 0; i < 3; i++) {
            data[i] = new byte[(int) sizes[i]];
            random.nextBytes(data[i]);
            etags[i] = md5Hex(data[i]);
        }
        // Parts 1, 2 and 4 are named; 3 was uploaded but is not; 2 was uploaded twice.
        uploads.putPart("videos", "clip.mp4", "u1", part(1, sizes[0], 10, etags[0]), 11);
        uploads.putPart("videos", "clip.mp4", "u1", part(2, sizes[1], 18, etags[1]), 12);
        uploads.putPart("videos", "clip.mp4", "u1", part(2, sizes[1], 20, etags[1]), 13);
        uploads.putPart("videos", "clip.mp4", "u1", part(3, 100, 30), 14);
        uploads.putPart("videos", "clip.mp4", "u1", part(4, sizes[2], 40, etags[2]), 15);

        List<CompletedPart> parts = List.of(named(1, "\"" + etags[0] + "\""), named(2, etags[1].toUpperCase()),
                named(4, etags[2]));
        // Failures leave the upload as it was.
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.complete("videos", "other", "u1", parts, 5 * MIB, 50));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.complete("videos", "clip.mp4", "u9", parts, 5 * MIB, 50));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.complete("videos", "clip.mp4", "u1", List.of(), 5 * MIB, 50));
        assertCode(ErrorCode.INVALID_PART_ORDER, () -> uploads.complete("videos", "clip.mp4", "u1",
                List.of(named(2, etags[1]), named(1, etags[0])), 5 * MIB, 50));
        assertCode(ErrorCode.INVALID_PART_ORDER, () -> uploads.complete("videos", "clip.mp4", "u1",
                List.of(named(1, etags[0]), named(1, etags[0])), 5 * MIB, 50));
        assertCode(ErrorCode.INVALID_PART, () -> uploads.complete("videos", "clip.mp4", "u1",
                List.of(named(1, etags[0]), named(5, etags[2])), 5 * MIB, 50));
        assertCode(ErrorCode.INVALID_PART, () -> uploads.complete("videos", "clip.mp4", "u1",
                List.of(named(1, etags[1]), named(2, etags[1])), 5 * MIB, 50));
        assertCode(ErrorCode.ENTITY_TOO_SMALL, () -> uploads.complete("videos", "clip.mp4", "u1",
                List.of(named(1, etags[0]), named(3, "0123456789abcdef0123456789abcdef"), named(4, etags[2])),
                5 * MIB, 50));
        assertCode(ErrorCode.ENTITY_TOO_SMALL, () -> uploads.complete("videos", "clip.mp4", "u1", parts,
                5 * MIB + 1, 50));
        assertThat(uploads.listParts("videos", "clip.mp4", "u1", 0, 10).getPartsCount()).isEqualTo(4);
        assertThat(names.getObject("videos", "clip.mp4").getChunksList()).containsExactly(chunk(7, 0, 3));

        CompleteMultipartUploadResponse done = uploads.complete("videos", "clip.mp4", "u1", parts, 5 * MIB, 60);

        MessageDigest md5OfMd5s = MessageDigest.getInstance("MD5");
        for (byte[] d : data) {
            md5OfMd5s.update(MessageDigest.getInstance("MD5").digest(d));
        }
        String expectedEtag = HexFormat.of().formatHex(md5OfMd5s.digest()) + "-3";
        ObjectInfo o = done.getObject();
        assertThat(o.getEtag()).isEqualTo(expectedEtag);
        assertThat(o.getSize()).isEqualTo(sizes[0] + sizes[1] + sizes[2]);
        assertThat(o.getChunksList()).containsExactly(
                chunk(10, 0, sizes[0] / 2), chunk(11, sizes[0] / 2, sizes[0] - sizes[0] / 2),
                chunk(20, sizes[0], sizes[1] / 2), chunk(21, sizes[0] + sizes[1] / 2, sizes[1] - sizes[1] / 2),
                chunk(40, sizes[0] + sizes[1], sizes[2] / 2),
                chunk(41, sizes[0] + sizes[1] + sizes[2] / 2, sizes[2] - sizes[2] / 2));
        assertThat(o.getModifiedMs()).isEqualTo(60);
        assertThat(o.getContentType()).isEqualTo("video/mp4");
        assertThat(o.getUserMetadataMap()).containsEntry("camera", "front");
        assertThat(o.getHeadersMap()).containsEntry("Cache-Control", "no-cache");
        // The replaced object's chunk and the unnamed part's; never one of the new object's.
        assertThat(needles(done.getFreedList())).containsExactlyInAnyOrder(7L, 30L, 31L);
        assertThat(names.getObject("videos", "clip.mp4")).isEqualTo(o);

        // The upload and its parts are gone: a retry finds no upload.
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.complete("videos", "clip.mp4", "u1", parts, 5 * MIB, 70));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.listParts("videos", "clip.mp4", "u1", 0, 10));
        assertThat(uploads.listUploads("videos", "", "", "", "", 10).getUploadsList()).isEmpty();
        try (var it = db.db().newIterator(db.parts)) {
            it.seekToFirst();
            assertThat(it.isValid()).as("no part is left behind").isFalse();
        }
    }

    @Test
    void aSinglePartMayBeSmallAndNeedNotBeNumberOne() throws Exception {
        names.createBucket("videos", 1);
        uploads.create(template("videos", "tiny"), "u1", 10);
        String etag = md5Hex("hello".getBytes(StandardCharsets.UTF_8));
        uploads.putPart("videos", "tiny", "u1", part(7, 5, 70, etag), 11);
        ObjectInfo o = uploads.complete("videos", "tiny", "u1", List.of(named(7, etag)), 5 * MIB, 12).getObject();
        assertThat(o.getSize()).isEqualTo(5);
        assertThat(o.getEtag()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                .digest(HexFormat.of().parseHex(etag))) + "-1");
    }

    @Test
    void abortingForgetsTheUploadAndReturnsItsChunks() throws Exception {
        names.createBucket("videos", 1);
        uploads.create(template("videos", "clip.mp4"), "u1", 10);
        uploads.putPart("videos", "clip.mp4", "u1", part(1, 10, 10), 11);
        uploads.putPart("videos", "clip.mp4", "u1", part(2, 10, 20), 12);
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.abort("videos", "other", "u1"));
        assertThat(needles(uploads.abort("videos", "clip.mp4", "u1"))).containsExactly(10L, 11L, 20L, 21L);
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.abort("videos", "clip.mp4", "u1"));
        assertCode(ErrorCode.NO_SUCH_UPLOAD, () -> uploads.putPart("videos", "clip.mp4", "u1", part(3, 10, 30), 13));
        assertCode(ErrorCode.NO_SUCH_KEY, () -> names.getObject("videos", "clip.mp4"));
        assertThat(uploads.listUploads("videos", "", "", "", "", 10).getUploadsCount()).isZero();
    }

    @Test
    void aBucketWithUploadsInProgressCannotBeDeleted() throws Exception {
        names.createBucket("videos", 1);
        names.createBucket("videos2", 1);
        uploads.create(template("videos2", "k"), "u0", 10);
        uploads.create(template("videos", "clip.mp4"), "u1", 10);
        assertCode(ErrorCode.BUCKET_NOT_EMPTY, () -> names.deleteBucket("videos"));
        uploads.abort("videos", "clip.mp4", "u1");
        names.deleteBucket("videos");
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> uploads.create(template("videos", "clip.mp4"), "u2", 10));
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> uploads.listUploads("videos", "", "", "", "", 10));
    }

    @Test
    void uploadsOfAKeyListInTheOrderTheyBegan() throws Exception {
        names.createBucket("videos", 1);
        uploads.create(template("videos", "b"), "zzz", 100);
        uploads.create(template("videos", "b"), "aaa", 200);
        uploads.create(template("videos", "b"), "mmm", 300);
        uploads.create(template("videos", "a"), "yyy", 400);
        uploads.create(template("videos", "b/c"), "bbb", 50);
        assertThat(uploads.listUploads("videos", "", "", "", "", 10).getUploadsList())
                .extracting(u -> u.getKey() + ":" + u.getUploadId())
                .containsExactly("a:yyy", "b:zzz", "b:aaa", "b:mmm", "b/c:bbb");

        ListMultipartUploadsResponse page = uploads.listUploads("videos", "", "", "", "", 2);
        assertThat(page.getTruncated()).isTrue();
        assertThat(page.getNextKeyMarker()).isEqualTo("b");
        assertThat(page.getNextUploadIdMarker()).isEqualTo("zzz");
        page = uploads.listUploads("videos", "", "", "b", "zzz", 2);
        assertThat(page.getUploadsList()).extracting(UploadInfo::getUploadId).containsExactly("aaa", "mmm");
        // Without an upload-id marker, the key marker's uploads are all passed over.
        assertThat(uploads.listUploads("videos", "", "", "b", "", 10).getUploadsList())
                .extracting(UploadInfo::getUploadId).containsExactly("bbb");
        // A marker naming an upload that is gone resumes at the start of its key.
        uploads.abort("videos", "b", "zzz");
        assertThat(uploads.listUploads("videos", "", "", "b", "zzz", 10).getUploadsList())
                .extracting(UploadInfo::getUploadId).containsExactly("aaa", "mmm", "bbb");

        page = uploads.listUploads("videos", "", "/", "", "", 10);
        assertThat(page.getUploadsList()).extracting(UploadInfo::getKey).containsExactly("a", "b", "b");
        assertThat(page.getCommonPrefixesList()).containsExactly("b/");
        page = uploads.listUploads("videos", "b", "/", "", "", 2);
        assertThat(page.getUploadsList()).extracting(UploadInfo::getUploadId).containsExactly("aaa", "mmm");
        assertThat(page.getTruncated()).isTrue();
        page = uploads.listUploads("videos", "b", "/", page.getNextKeyMarker(), page.getNextUploadIdMarker(), 2);
        assertThat(page.getCommonPrefixesList()).containsExactly("b/");
        assertThat(page.getTruncated()).isFalse();
        assertThat(uploads.listUploads("videos", "b", "/", "b/", "", 2).getCommonPrefixesList()).isEmpty();

        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.listUploads("videos", "", "", "", "", 0));
        assertCode(ErrorCode.BAD_REQUEST, () -> uploads.listUploads("videos", "", "", "", "", 1001));
    }

    /** Seeded random uploads listed page by page against a reference model. */
    @Test
    void listingMatchesAReferenceModel() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        names.createBucket("data", 1);
        names.createBucket("data2", 1);
        uploads.create(template("data2", "a"), "other-bucket", 1);
        // Key to "key:upload id" in the order the uploads began; keys in UTF-8 order, as listed.
        TreeMap<String, List<String>> model = new TreeMap<>(UploadTableTest::utf8Order);
        String[] parts = {"a", "b", "a/", "photos/", "x-", "é", "z"};
        for (int i = 0; i < 400; i++) {
            StringBuilder k = new StringBuilder();
            int n = 1 + random.nextInt(3);
            for (int j = 0; j < n; j++) {
                k.append(parts[random.nextInt(parts.length)]);
            }
            k.append(random.nextInt(20));
            String id = String.format("%08x", random.nextInt());
            uploads.create(template("data", k.toString()), id, 1000 + i);
            model.computeIfAbsent(k.toString(), x -> new ArrayList<>()).add(k + ":" + id);
        }
        try {
            for (String[] q : new String[][] {{"", ""}, {"", "/"}, {"a", "/"}, {"photos/", "/"}, {"a/", ""},
                    {"z", "-"}}) {
                List<String> expected = new ArrayList<>();
                TreeSet<String> seenPrefixes = new TreeSet<>();
                model.forEach((key, ups) -> {
                    if (!key.startsWith(q[0])) {
                        return;
                    }
                    int at = q[1].isEmpty() ? -1 : key.indexOf(q[1], q[0].length());
                    if (at < 0) {
                        expected.addAll(ups);
                    } else if (seenPrefixes.add(key.substring(0, at + q[1].length()))) {
                        expected.add(key.substring(0, at + q[1].length()));
                    }
                });
                for (int limit : new int[] {1, 7, 1000}) {
                    List<String> got = new ArrayList<>();
                    String keyMarker = "";
                    String idMarker = "";
                    for (int pages = 0; ; pages++) {
                        assertThat(pages).isLessThan(2000);
                        ListMultipartUploadsResponse page = uploads.listUploads("data", q[0], q[1], keyMarker, idMarker,
                                limit);
                        assertThat(page.getUploadsCount() + page.getCommonPrefixesCount()).isLessThanOrEqualTo(limit);
                        got.addAll(inListingOrder(page));
                        if (!page.getTruncated()) {
                            break;
                        }
                        keyMarker = page.getNextKeyMarker();
                        idMarker = page.getNextUploadIdMarker();
                    }
                    assertThat(got).as("prefix %s delimiter %s limit %d", q[0], q[1], limit).isEqualTo(expected);
                }
            }
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    /** A page's uploads ("key:upload id") and common prefixes merged, each prefix where its first key was. */
    private static List<String> inListingOrder(ListMultipartUploadsResponse page) {
        List<String[]> entries = new ArrayList<>();
        page.getUploadsList().forEach(u -> entries.add(new String[] {u.getKey(), u.getKey() + ":" + u.getUploadId()}));
        page.getCommonPrefixesList().forEach(p -> entries.add(new String[] {p, p}));
        entries.sort((a, b) -> utf8Order(a[0], b[0]));
        return entries.stream().map(e -> e[1]).toList();
    }

    private static int utf8Order(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void uploadsSurviveAReopenAndACheckpoint() throws Exception {
        names.createBucket("videos", 1);
        uploads.create(template("videos", "clip.mp4"), "u1", 10);
        uploads.putPart("videos", "clip.mp4", "u1", part(1, 10, 10), 11);
        db.checkpoint(dir.resolve("checkpoint"));
        db.close();
        db = MetaDb.open(dir.resolve("checkpoint"));
        names = new NameTable(db);
        uploads = new UploadTable(db, names);
        assertThat(uploads.listParts("videos", "clip.mp4", "u1", 0, 10).getPartsList())
                .extracting(PartInfo::getPartNumber).containsExactly(1);
    }

    /** A database made before uploads existed opens, its names intact, and takes uploads. */
    @Test
    void aDatabaseWithoutTheUploadFamiliesOpens() throws Exception {
        db.close();
        Path old = dir.resolve("old");
        Files.createDirectories(old);
        List<ColumnFamilyDescriptor> families = new ArrayList<>();
        families.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
        for (String name : List.of("buckets", "objects", "stores", "volumes")) {
            families.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8)));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
                RocksDB rocks = RocksDB.open(options, old.toString(), families, handles)) {
            rocks.put(handles.get(1), "videos".getBytes(StandardCharsets.UTF_8),
                    BucketInfo.newBuilder().setName("videos").setCreatedMs(1).build().toByteArray());
            handles.forEach(ColumnFamilyHandle::close);
        }
        db = MetaDb.open(old);
        names = new NameTable(db);
        uploads = new UploadTable(db, names);
        assertThat(names.listBuckets()).extracting(BucketInfo::getName).containsExactly("videos");
        uploads.create(template("videos", "clip.mp4"), "u1", 10);
        assertThat(uploads.listUploads("videos", "", "", "", "", 10).getUploadsCount()).isEqualTo(1);
    }
}

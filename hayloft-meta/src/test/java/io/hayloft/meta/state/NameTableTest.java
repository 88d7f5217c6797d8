package io.hayloft.meta.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ListObjectsResponse;
import io.hayloft.proto.v1.ObjectInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NameTableTest {
    @TempDir
    Path dir;

    private MetaDb db;
    private NameTable names;

    @BeforeEach
    void open() throws MetaException {
        db = MetaDb.open(dir);
        names = new NameTable(db);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private static ObjectInfo object(String bucket, String key, long needle) {
        return ObjectInfo.newBuilder().setBucket(bucket).setKey(key).setSize(10)
                .addChunks(Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(needle).setCookie(7))
                        .setOffset(0).setLength(10))
                .build();
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(MetaException.class)
                .satisfies(e -> assertThat(((MetaException) e).code()).isEqualTo(code));
    }

    @Test
    void bucketsAndObjects() throws Exception {
        names.createBucket("photos", 1000);
        assertCode(ErrorCode.BUCKET_EXISTS, () -> names.createBucket("photos", 2000));
        assertCode(ErrorCode.BAD_REQUEST, () -> names.createBucket("No_Such", 1));
        assertCode(ErrorCode.BAD_REQUEST, () -> names.createBucket("ab", 1));
        assertCode(ErrorCode.BAD_REQUEST, () -> names.createBucket("10.0.0.1", 1));
        assertCode(ErrorCode.BAD_REQUEST, () -> names.createBucket("a..b", 1));
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> names.putObject(object("nope", "k", 1)));

        assertThat(names.putObject(object("photos", "cat.jpg", 1))).isEmpty();
        List<Chunk> replaced = names.putObject(object("photos", "cat.jpg", 2));
        assertThat(replaced).extracting(c -> c.getFid().getNeedleId()).containsExactly(1L);
        assertThat(names.getObject("photos", "cat.jpg").getChunks(0).getFid().getNeedleId()).isEqualTo(2);
        assertCode(ErrorCode.NO_SUCH_KEY, () -> names.getObject("photos", "dog.jpg"));
        assertCode(ErrorCode.BAD_REQUEST, () -> names.getObject("photos", "x".repeat(1025)));
        assertCode(ErrorCode.BAD_REQUEST, () -> names.putObject(object("photos", "", 3)));

        assertCode(ErrorCode.BUCKET_NOT_EMPTY, () -> names.deleteBucket("photos"));
        assertThat(names.deleteObject("photos", "cat.jpg")).extracting(c -> c.getFid().getNeedleId()).containsExactly(2L);
        assertThat(names.deleteObject("photos", "cat.jpg")).isEmpty();
        names.deleteBucket("photos");
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> names.deleteBucket("photos"));
        assertThat(names.listBuckets()).isEmpty();
    }

    @Test
    void namesSurviveAReopen() throws Exception {
        names.createBucket("docs", 5);
        names.putObject(object("docs", "a/b", 9));
        db.close();
        db = MetaDb.open(dir);
        names = new NameTable(db);
        assertThat(names.listBuckets()).extracting(b -> b.getName()).containsExactly("docs");
        assertThat(names.getObject("docs", "a/b").getChunks(0).getFid().getNeedleId()).isEqualTo(9);
    }

    /**
     * Writes skip RocksDB's write-ahead log (the Raft log is the state's log): a checkpoint, which
     * is what a Raft snapshot packs, must still hold every one, also those only in a memtable, and
     * a missing name must still be found missing once the names are in table files.
     */
    @Test
    void aCheckpointHoldsWritesStillInMemory() throws Exception {
        names.createBucket("docs", 5);
        for (int i = 0; i < 100; i++) {
            names.putObject(object("docs", "k" + i, i + 1));
        }
        db.checkpoint(dir.resolve("checkpoint"));
        try (MetaDb copy = MetaDb.open(dir.resolve("checkpoint"))) {
            NameTable copied = new NameTable(copy);
            assertThat(copied.getObject("docs", "k99").getChunks(0).getFid().getNeedleId()).isEqualTo(100);
            assertThat(copied.putObject(object("docs", "k100", 101))).isEmpty();
            assertCode(ErrorCode.NO_SUCH_KEY, () -> copied.getObject("docs", "absent"));
            assertThat(copied.listObjects("docs", "", "", "", 1000).getObjectsCount()).isEqualTo(101);
        }
    }

    /** Bucket boundaries: a key of one bucket never lists in another whose name extends it. */
    @Test
    void bucketsDoNotLeakIntoEachOther() throws Exception {
        names.createBucket("abc", 1);
        names.createBucket("abcd", 1);
        names.putObject(object("abcd", "x", 1));
        assertThat(names.listObjects("abc", "", "", "", 1000).getObjectsList()).isEmpty();
        names.deleteBucket("abc");
    }

    /** Seeded random listings against a reference model, paging through with next_start_after. */
    @Test
    void listingMatchesAReferenceModel() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        names.createBucket("data", 1);
        TreeSet<String> keys = new TreeSet<>();
        String[] parts = {"a", "b", "a/", "photos/", "2024/", "x-", "é", "z"};
        while (keys.size() < 2500) {
            StringBuilder k = new StringBuilder();
            int n = 1 + random.nextInt(4);
            for (int i = 0; i < n; i++) {
                k.append(parts[random.nextInt(parts.length)]);
            }
            k.append(random.nextInt(50));
            if (keys.add(k.toString())) {
                names.putObject(object("data", k.toString(), keys.size()));
            }
        }
        try {
            for (String[] q : new String[][] {{"", ""}, {"", "/"}, {"a", "/"}, {"photos/", "/"}, {"a/", ""}, {"z", "-"}}) {
                for (int limit : new int[] {1, 7, 1000}) {
                    List<String> got = new ArrayList<>();
                    String after = "";
                    int pages = 0;
                    while (true) {
                        ListObjectsResponse page = names.listObjects("data", q[0], q[1], after, limit);
                        page.getObjectsList().forEach(o -> got.add(o.getKey()));
                        got.addAll(page.getCommonPrefixesList());
                        assertThat(page.getObjectsCount() + page.getCommonPrefixesCount()).isLessThanOrEqualTo(limit);
                        pages++;
                        if (!page.getTruncated()) {
                            break;
                        }
                        after = page.getNextStartAfter();
                        assertThat(pages).isLessThan(5000);
                    }
                    assertThat(new TreeSet<>(got)).as("prefix %s delimiter %s limit %d", q[0], q[1], limit)
                            .isEqualTo(expected(keys, q[0], q[1]));
                    assertThat(got).doesNotHaveDuplicates();
                }
            }
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    private static TreeSet<String> expected(TreeSet<String> keys, String prefix, String delimiter) {
        TreeSet<String> out = new TreeSet<>();
        for (String k : keys) {
            if (!k.startsWith(prefix)) {
                continue;
            }
            int at = delimiter.isEmpty() ? -1 : k.indexOf(delimiter, prefix.length());
            out.add(at < 0 ? k : k.substring(0, at + delimiter.length()));
        }
        return out;
    }
}

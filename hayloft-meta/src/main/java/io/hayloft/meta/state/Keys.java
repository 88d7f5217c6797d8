package io.hayloft.meta.state;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * Building and comparing the tables' RocksDB keys, which RocksDB orders as unsigned bytes.
 *
 * <p>The keys of a bucket's objects and uploads all start with {@link #bucketPrefix}: bucket
 * names cannot hold 0x00, so one bucket's keys are contiguous and never mix with another's.
 */
final class Keys {
    private Keys() {}

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Bucket, 0x00. */
    static byte[] bucketPrefix(String bucket) {
        return concat(utf8(bucket), new byte[] {0});
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** The smallest key above {@code k}. */
    static byte[] successor(byte[] k) {
        return Arrays.copyOf(k, k.length + 1);
    }

    /** The smallest key above every key that starts with {@code p}. */
    static byte[] prefixEnd(byte[] p) {
        byte[] out = p.clone();
        for (int i = out.length - 1; i >= 0; i--) {
            if (out[i] != (byte) 0xFF) {
                out[i]++;
                return Arrays.copyOf(out, i + 1);
            }
        }
        return successor(p);
    }

    static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** Whether the column family holds a key that starts with {@code prefix}. */
    static boolean anyWithPrefix(RocksDB db, ColumnFamilyHandle cf, byte[] prefix) {
        try (RocksIterator it = db.newIterator(cf)) {
            it.seek(prefix);
            return it.isValid() && startsWith(it.key(), prefix);
        }
    }
}

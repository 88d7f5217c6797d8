package io.hayloft.meta.state;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB database of one meta peer, with one column family per table.
 *
 * <p>Implementation notes. The database is the state of a Raft state machine: the Raft log
 * makes every change durable before it is applied, and the peer rebuilds this database from its
 * last snapshot and the log every time it starts. So writes here neither fsync nor go to
 * RocksDB's own write-ahead log, which would only repeat the Raft log; a checkpoint (a snapshot)
 * flushes the memtables first, so it holds every write all the same. Every family keeps a Bloom
 * filter in its table files: a put looks its name up first (to free what it replaces), and most
 * names are new, so without one such a lookup would search every table file. Column families:
 * {@code buckets} (bucket name to {@code BucketInfo}), {@code objects} (bucket, 0x00, key to {@code ObjectInfo}),
 * {@code stores} (store id to {@code StoreInfo}), {@code volumes} (volume id, 4 bytes big-endian,
 * to {@code VolumeInfo} whose replicas carry only store ids), {@code uploads} (upload id to
 * {@code UploadInfo}), {@code upload_names} (bucket, 0x00, key, 0x00, initiation time in ms as 8
 * bytes big-endian, upload id to the same {@code UploadInfo}: the listing order),
 * {@code parts} (upload id, 0x00, part number as 4 bytes big-endian, to {@code PartInfo}), and
 * the default family for id counters. Values are the protocol's own protobuf messages. Families
 * missing from a database made by an older version are created empty when it opens; a
 * checkpoint (a snapshot) holds every family.
 */
public final class MetaDb implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private final RocksDB db;
    private final DBOptions options;
    private final ColumnFamilyOptions cfOptions;
    private final BloomFilter filter;
    private final List<ColumnFamilyHandle> handles;
    private final WriteOptions writeOptions;
    final ColumnFamilyHandle buckets;
    final ColumnFamilyHandle objects;
    final ColumnFamilyHandle stores;
    final ColumnFamilyHandle volumes;
    final ColumnFamilyHandle uploads;
    final ColumnFamilyHandle uploadNames;
    final ColumnFamilyHandle parts;
    final ColumnFamilyHandle counters;

    private MetaDb(RocksDB db, DBOptions options, ColumnFamilyOptions cfOptions, BloomFilter filter,
            List<ColumnFamilyHandle> handles) {
        this.db = db;
        this.options = options;
        this.cfOptions = cfOptions;
        this.filter = filter;
        this.handles = handles;
        this.buckets = handles.get(1);
        this.objects = handles.get(2);
        this.stores = handles.get(3);
        this.volumes = handles.get(4);
        this.uploads = handles.get(5);
        this.uploadNames = handles.get(6);
        this.parts = handles.get(7);
        this.counters = handles.get(0);
        this.writeOptions = new WriteOptions().setSync(false).setDisableWAL(true);
    }

    /** Opens (creating when needed) the database in {@code dir}. */
    public static MetaDb open(Path dir) throws MetaException {
        DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        // 10 bits a key: about 1% of lookups of a missing name still read a block.
        BloomFilter filter = new BloomFilter(10);
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions()
                .setTableFormatConfig(new BlockBasedTableConfig().setFilterPolicy(filter));
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor("buckets".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("objects".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("stores".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("volumes".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("uploads".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("upload_names".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("parts".getBytes(StandardCharsets.UTF_8), cfOptions));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles);
            return new MetaDb(db, options, cfOptions, filter, handles);
        } catch (RocksDBException | java.io.IOException e) {
            options.close();
            cfOptions.close();
            filter.close();
            throw new MetaException(ErrorCode.IO_ERROR, "open meta database in " + dir + ": " + e.getMessage(), e);
        }
    }

    RocksDB db() {
        return db;
    }

    /** Applies the batch atomically. */
    void write(WriteBatch batch) throws MetaException {
        try {
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw new MetaException(ErrorCode.IO_ERROR, "meta database write: " + e.getMessage(), e);
        }
    }

    /** Writes a consistent copy of the database into {@code dir}, which must not exist. */
    public void checkpoint(Path dir) throws MetaException {
        try (org.rocksdb.Checkpoint checkpoint = org.rocksdb.Checkpoint.create(db)) {
            checkpoint.createCheckpoint(dir.toString());
        } catch (RocksDBException e) {
            throw new MetaException(ErrorCode.IO_ERROR, "checkpoint of the meta database: " + e.getMessage(), e);
        }
    }

    static MetaException ioError(RocksDBException e) {
        return new MetaException(ErrorCode.IO_ERROR, "meta database: " + e.getMessage(), e);
    }

    static MetaException damaged(InvalidProtocolBufferException e) {
        return new MetaException(ErrorCode.INTERNAL, "damaged record in the meta database: " + e.getMessage(), e);
    }

    @Override
    public void close() {
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        writeOptions.close();
        options.close();
        cfOptions.close();
        filter.close();
    }
}

package io.hayloft.meta.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.meta.MetaException;
import io.hayloft.meta.state.MetaApplier;
import io.hayloft.meta.state.MetaDb;
import io.hayloft.meta.state.MetaQueries;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaQuery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meta's Raft state machine: applies {@link MetaBatch} log entries to the RocksDB state and
 * answers {@link MetaQuery} reads.
 *
 * <p>Implementation notes. The live database is a working copy: at start, and whenever a
 * snapshot arrives from the leader, it is rebuilt from the latest snapshot (a packed RocksDB
 * checkpoint) and Ratis replays the log after the snapshot's index. So the database need not
 * fsync, and a crash in the middle of an apply cannot leave a half-applied command behind. Apply
 * is deterministic ({@link MetaApplier}); a bad command fails itself, not the server. The
 * lifecycle transitions follow Ratis's rules: {@code pause} before a snapshot install,
 * {@code reinitialize} after it.
 */
public final class MetaStateMachine extends BaseStateMachine {
    private static final Logger log = LoggerFactory.getLogger(MetaStateMachine.class);
    private static final String TMP_SUFFIX = ".tmp";
    private static final long RETRY_AFTER_FAILURE_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** How long close and a snapshot install wait for a snapshot being packed. */
    private static final long PACK_WAIT_MS = 60_000;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private Path dbDir;
    private volatile MetaDb db;
    private volatile MetaApplier state;
    /** Applies and queries share the database; reloading it from a snapshot excludes them. */
    private final ReentrantReadWriteLock stateLock = new ReentrantReadWriteLock();
    /** Packs checkpoints into snapshot files, one at a time, off Ratis's apply thread. */
    private final Executor packer;
    /** The snapshot being packed, or packed and not yet reported to Ratis; only Ratis's apply thread and close touch it. */
    private CompletableFuture<TermIndex> packing;
    /** After a failed snapshot the next waits until then ({@link System#nanoTime}), not for the next apply. */
    private long nextAttemptNanos = System.nanoTime();

    /** A state machine that packs its snapshots on a thread of its own. */
    public MetaStateMachine() {
        this(command -> {
            Thread t = new Thread(command, "meta-snapshot");
            t.setDaemon(true);
            t.start();
        });
    }

    /** A state machine that packs its snapshots on {@code packer}, which runs one at a time. */
    MetaStateMachine(Executor packer) {
        this.packer = packer;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        deleteUnfinished(raftStorage.getStorageDir().getStateMachineDir().toPath());
        dbDir = raftStorage.getStorageDir().getRoot().toPath().resolve("meta-db");
        getLifeCycle().startAndTransition(this::loadLatestSnapshot, IOException.class);
    }

    /** Deletes the checkpoints and half-packed snapshot files a stop in the middle of a snapshot left. */
    private static void deleteUnfinished(Path snapshotDir) throws IOException {
        if (!Files.isDirectory(snapshotDir)) {
            return;
        }
        try (Stream<Path> files = Files.list(snapshotDir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(TMP_SUFFIX)).toList()) {
                SnapshotFiles.deleteTree(p);
            }
        }
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    /** Rebuilds the working database from the latest snapshot (or empty when there is none). */
    private void loadLatestSnapshot() throws IOException {
        stateLock.writeLock().lock();
        try {
            reload();
        } finally {
            stateLock.writeLock().unlock();
        }
    }

    private void reload() throws IOException {
        closeDb();
        SnapshotFiles.deleteTree(dbDir);
        SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
        if (snapshot != null) {
            SnapshotFiles.unpack(snapshot.getFile().getPath(), dbDir);
            setLastAppliedTermIndex(snapshot.getTermIndex());
            log.info("meta state loaded from snapshot {}", snapshot.getTermIndex());
        } else {
            setLastAppliedTermIndex(null);
        }
        try {
            db = MetaDb.open(dbDir);
        } catch (MetaException e) {
            throw new IOException(e.getMessage(), e);
        }
        state = new MetaApplier(db);
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        ByteString data = entry.getStateMachineLogEntry().getLogData();
        byte[] result;
        stateLock.readLock().lock();
        try {
            result = state.apply(MetaBatch.parseFrom(data.toByteArray())).toByteArray();
        } catch (InvalidProtocolBufferException e) {
            // Every peer sees the same bytes and fails the same way: the entry changes nothing.
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            return CompletableFuture.failedFuture(new IllegalArgumentException("not a meta batch", e));
        } finally {
            stateLock.readLock().unlock();
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(result)));
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        stateLock.readLock().lock();
        try {
            MetaQuery q = MetaQuery.parseFrom(request.getContent().toByteArray());
            return CompletableFuture.completedFuture(
                    Message.valueOf(ByteString.copyFrom(MetaQueries.answer(state, q).toByteArray())));
        } catch (InvalidProtocolBufferException e) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("not a meta query", e));
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /** A read of this peer's state, which may lag the leader's. */
    @FunctionalInterface
    public interface StateRead<T> {
        T read(MetaApplier state) throws MetaException;
    }

    /**
     * Reads this peer's applied state directly, without Raft: for the leader's own bookkeeping
     * (liveness) and for reads that may be stale (volume lookups).
     */
    public <T> T read(StateRead<T> read) throws MetaException {
        stateLock.readLock().lock();
        try {
            MetaApplier s = state;
            if (s == null) {
                throw new MetaException(io.hayloft.proto.v1.ErrorCode.UNAVAILABLE, "meta state is not loaded");
            }
            return read.read(s);
        } finally {
            stateLock.readLock().unlock();
        }
    }

    /**
     * Called by Ratis's apply thread whenever {@code snapshotEveryEntries} entries were applied
     * since the last snapshot it knows of. Only the checkpoint is taken here: RocksDB flushes its
     * memtables and links its files, so applies stop for that short moment only. The packing of
     * the checkpoint into the snapshot file, which reads the whole database, runs on its own
     * thread. Until it is done this answers "no new snapshot", and Ratis asks again after its next
     * applies; the answer after that is the packed snapshot's index, up to which Ratis may then
     * purge its log.
     */
    @Override
    public long takeSnapshot() throws IOException {
        CompletableFuture<TermIndex> running = packing;
        if (running != null) {
            if (!running.isDone()) {
                return RaftLog.INVALID_LOG_INDEX;
            }
            packing = null;
            TermIndex packed;
            try {
                packed = running.join();
            } catch (CompletionException e) {
                nextAttemptNanos = System.nanoTime() + RETRY_AFTER_FAILURE_NANOS;
                throw new IOException("meta snapshot failed: " + e.getCause().getMessage(), e.getCause());
            }
            storage.loadLatestSnapshot();
            return packed.getIndex();
        }
        if (System.nanoTime() - nextAttemptNanos < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        stateLock.readLock().lock();
        try {
            packing = startSnapshot();
        } finally {
            stateLock.readLock().unlock();
        }
        return RaftLog.INVALID_LOG_INDEX;
    }

    /** Takes a checkpoint of the applied state and hands it to the packer; null when there is nothing to take. */
    private CompletableFuture<TermIndex> startSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() <= 0) {
            return null;
        }
        Path file = storage.getSnapshotFile(last.getTerm(), last.getIndex()).toPath();
        Path checkpoint = file.resolveSibling("checkpoint." + last.getIndex() + TMP_SUFFIX);
        long started = System.nanoTime();
        SnapshotFiles.deleteTree(checkpoint);
        try {
            db.checkpoint(checkpoint);
        } catch (MetaException e) {
            SnapshotFiles.deleteTree(checkpoint);
            nextAttemptNanos = System.nanoTime() + RETRY_AFTER_FAILURE_NANOS;
            throw new IOException(e.getMessage(), e);
        }
        long checkpointMs = (System.nanoTime() - started) / 1_000_000;
        return CompletableFuture.supplyAsync(() -> {
            long packStarted = System.nanoTime();
            try {
                SnapshotFiles.pack(checkpoint, file);
                MD5FileUtil.computeAndSaveMd5ForFile(file.toFile());
                log.info("meta snapshot taken at {}: {} bytes, checkpoint in {} ms, packed in {} ms", last,
                        Files.size(file), checkpointMs, (System.nanoTime() - packStarted) / 1_000_000);
                return last;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                try {
                    SnapshotFiles.deleteTree(checkpoint);
                } catch (IOException e) {
                    log.warn("could not delete the meta checkpoint {}: {}", checkpoint, e.toString());
                }
            }
        }, packer);
    }

    /** Waits for a snapshot being packed, and forgets it: Ratis will not hear of it. */
    private void awaitPacking(long timeoutMs) {
        CompletableFuture<TermIndex> running = packing;
        packing = null;
        if (running == null) {
            return;
        }
        try {
            running.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("meta snapshot not packed: {}", e.toString());
        }
    }

    @Override
    public void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    @Override
    public void reinitialize() throws IOException {
        // The installed snapshot is newer than one being packed, which Ratis must not hear of now.
        awaitPacking(PACK_WAIT_MS);
        storage.loadLatestSnapshot();
        loadLatestSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public void close() throws IOException {
        awaitPacking(PACK_WAIT_MS);
        stateLock.writeLock().lock();
        try {
            closeDb();
        } finally {
            stateLock.writeLock().unlock();
        }
        super.close();
    }

    private void closeDb() {
        state = null;
        if (db != null) {
            db.close();
            db = null;
        }
    }

}

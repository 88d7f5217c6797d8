package io.hayloft.meta.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.meta.MetaException;
import io.hayloft.meta.state.MetaApplier;
import io.hayloft.meta.state.MetaDb;
import io.hayloft.meta.state.MetaQueries;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaQuery;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
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

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private Path dbDir;
    private volatile MetaDb db;
    private volatile MetaApplier state;
    /** Applies and queries share the database; reloading it from a snapshot excludes them. */
    private final ReentrantReadWriteLock stateLock = new ReentrantReadWriteLock();

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        dbDir = raftStorage.getStorageDir().getRoot().toPath().resolve("meta-db");
        getLifeCycle().startAndTransition(this::loadLatestSnapshot, IOException.class);
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

    @Override
    public long takeSnapshot() throws IOException {
        stateLock.readLock().lock();
        try {
            return snapshot();
        } finally {
            stateLock.readLock().unlock();
        }
    }

    private long snapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() <= 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        Path checkpoint = file.toPath().resolveSibling("checkpoint.tmp");
        SnapshotFiles.deleteTree(checkpoint);
        try {
            db.checkpoint(checkpoint);
            SnapshotFiles.pack(checkpoint, file.toPath());
            MD5FileUtil.computeAndSaveMd5ForFile(file);
        } catch (MetaException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            SnapshotFiles.deleteTree(checkpoint);
        }
        storage.loadLatestSnapshot();
        log.info("meta snapshot taken at {}", last);
        return last.getIndex();
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
        storage.loadLatestSnapshot();
        loadLatestSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public void close() throws IOException {
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

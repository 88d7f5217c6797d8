package io.hayloft.meta.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Gathers the meta commands of many concurrent callers into one Raft log entry, so that one Raft
 * round trip and one fsync serve them all.
 *
 * <p>Implementation notes. Commands wait in a queue. Whenever fewer than {@code inFlightMax}
 * batches are on their way, the queue is drained into a new batch of at most
 * {@code batchCommandsMax} commands and sent; when a batch's reply comes back, each caller's
 * future gets its own result, and the next batch leaves. So under light load a command goes out
 * at once, alone, and under heavy load batches grow by themselves.
 *
 * <p>With a linger, a batch also waits for company that it knows is coming. Callers in this
 * process {@link #announce} a command while they do the work that comes before it (a PUT storing
 * its body). A batch then leaves once the queue holds seven eighths of the largest of the last
 * {@value #RECENT_BATCHES} batches, or once no announced command is still on its way, or once the
 * linger has passed since the previous batch left, whichever comes first. A lone caller (recent
 * batches of one) never waits, nor does a batch when nothing was announced. Many callers that each
 * wait for their command before sending the next one (an S3 client's threads, each with one PUT at
 * a time) are then answered together and come back together, and every stage of their next
 * requests batches better, not only Raft: with 16 such callers on the one-process server, rounds
 * of Raft and fsyncs per PUT fall, and PUTs per second rise (docs/benchmarks.md). No command waits
 * longer than the linger for company.
 */
public final class ProposalBatcher {
    /** Batches whose sizes set how many commands a lingering batch waits for. */
    static final int RECENT_BATCHES = 32;

    private final Function<Message, CompletableFuture<RaftClientReply>> sender;
    private final int batchCommandsMax;
    private final int inFlightMax;
    private final long lingerNanos;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Sizes of the last batches sent, in a ring; written by the sender of a batch. */
    private final int[] recent = new int[RECENT_BATCHES];
    private int recentAt;
    /** Seven eighths of the largest recent batch, at least one: how many commands a batch waits for. */
    private volatile int companyWanted = 1;
    private volatile long lastSentNanos = System.nanoTime();
    /** Whether a timer will look at the queue again, for commands left lingering. */
    private final AtomicBoolean timerSet = new AtomicBoolean();
    /** Commands announced and neither submitted nor given up yet. */
    private final AtomicInteger announced = new AtomicInteger();

    private record Pending(MetaCommand command, CompletableFuture<MetaResult> result) {}

    /**
     * A batcher without a linger: a batch leaves as soon as fewer than {@code inFlightMax} are on
     * their way.
     *
     * @param sender sends one log entry through Raft, e.g. {@code client.async()::send}
     */
    public ProposalBatcher(Function<Message, CompletableFuture<RaftClientReply>> sender, int batchCommandsMax,
            int inFlightMax) {
        this(sender, batchCommandsMax, inFlightMax, Duration.ZERO);
    }

    /**
     * @param sender sends one log entry through Raft, e.g. {@code client.async()::send}
     * @param linger longest a batch waits for company after the previous one left; zero for none
     */
    public ProposalBatcher(Function<Message, CompletableFuture<RaftClientReply>> sender, int batchCommandsMax,
            int inFlightMax, Duration linger) {
        if (batchCommandsMax < 1 || inFlightMax < 1) {
            throw new IllegalArgumentException("batchCommandsMax and inFlightMax must be positive");
        }
        if (linger.isNegative()) {
            throw new IllegalArgumentException("the linger must not be negative");
        }
        this.sender = sender;
        this.batchCommandsMax = batchCommandsMax;
        this.inFlightMax = inFlightMax;
        this.lingerNanos = linger.toNanos();
    }

    /** Proposes the command; the future completes with its result once the entry is applied. */
    public CompletableFuture<MetaResult> submit(MetaCommand command) {
        return submit(command, null);
    }

    /**
     * Proposes the command announced by {@code announcement} (which it uses up; null for none);
     * the future completes with its result once the entry is applied.
     */
    public CompletableFuture<MetaResult> submit(MetaCommand command, Announcement announcement) {
        if (announcement != null && announcement.batcher() != this) {
            throw new IllegalArgumentException("the announcement was made to another batcher");
        }
        CompletableFuture<MetaResult> result = new CompletableFuture<>();
        queue.add(new Pending(command, result));
        queued.incrementAndGet();
        if (announcement != null) {
            // Only after the command is queued: a batch that waited for it must find it there.
            announcement.withdraw();
        }
        flush();
        return result;
    }

    /**
     * Says that a command will be submitted soon, so that a lingering batch waits for it. The
     * caller passes the announcement to {@link #submit(MetaCommand, Announcement)}, or closes it
     * when the command will not come; closing it after the submit does nothing.
     */
    public Announcement announce() {
        announced.incrementAndGet();
        return new Announcement();
    }

    /** A command on its way; see {@link #announce}. */
    public final class Announcement implements AutoCloseable {
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Announcement() {}

        /** Gives the command up, unless it was submitted: a batch that waited only for it leaves. */
        @Override
        public void close() {
            if (withdraw()) {
                flush();
            }
        }

        private boolean withdraw() {
            if (open.compareAndSet(true, false)) {
                announced.decrementAndGet();
                return true;
            }
            return false;
        }

        private ProposalBatcher batcher() {
            return ProposalBatcher.this;
        }
    }

    private void flush() {
        while (!queue.isEmpty()) {
            int n = inFlight.get();
            if (n >= inFlightMax || lingering()) {
                return;
            }
            if (!inFlight.compareAndSet(n, n + 1)) {
                continue;
            }
            List<Pending> batch = new ArrayList<>();
            Pending p;
            while (batch.size() < batchCommandsMax && (p = queue.poll()) != null) {
                batch.add(p);
            }
            queued.addAndGet(-batch.size());
            if (batch.isEmpty()) {
                inFlight.decrementAndGet();
                continue;
            }
            sent(batch.size());
            send(batch);
        }
    }

    /**
     * Whether the queued commands wait for more to join them: fewer than the batch waits for,
     * some announced command still on its way, and the linger since the previous batch not over.
     * Sets a timer for the end of the linger when none is set, so that waiting commands always
     * leave in the end.
     */
    private boolean lingering() {
        if (lingerNanos == 0) {
            return false;
        }
        long left = lastSentNanos + lingerNanos - System.nanoTime();
        if (left <= 0 || queued.get() >= companyWanted || announced.get() <= 0) {
            return false;
        }
        if (timerSet.compareAndSet(false, true)) {
            // The JDK's delay thread runs the flush itself: it only builds and hands over a batch.
            CompletableFuture.delayedExecutor(left, TimeUnit.NANOSECONDS, Runnable::run).execute(() -> {
                timerSet.set(false);
                flush();
            });
        }
        return true;
    }

    /** Notes a batch leaving: its time, and its size among the recent ones. */
    private void sent(int size) {
        if (lingerNanos == 0) {
            return;
        }
        synchronized (recent) {
            recent[recentAt] = size;
            recentAt = (recentAt + 1) % RECENT_BATCHES;
            int largest = 0;
            for (int r : recent) {
                largest = Math.max(largest, r);
            }
            companyWanted = Math.max(1, largest * 7 / 8);
        }
        lastSentNanos = System.nanoTime();
    }

    private void send(List<Pending> batch) {
        MetaBatch.Builder entry = MetaBatch.newBuilder();
        for (Pending p : batch) {
            entry.addCommands(p.command());
        }
        CompletableFuture<RaftClientReply> reply;
        try {
            reply = sender.apply(Message.valueOf(ByteString.copyFrom(entry.build().toByteArray())));
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, error) -> {
            try {
                complete(batch, r, error);
            } finally {
                inFlight.decrementAndGet();
                flush();
            }
        });
    }

    private static void complete(List<Pending> batch, RaftClientReply reply, Throwable error) {
        if (error == null && reply != null && !reply.isSuccess()) {
            error = reply.getException() != null ? reply.getException() : new IllegalStateException("Raft refused");
        }
        if (error != null) {
            for (Pending p : batch) {
                p.result().completeExceptionally(error);
            }
            return;
        }
        try {
            MetaBatchResult results = MetaBatchResult.parseFrom(reply.getMessage().getContent().toByteArray());
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(results.getResults(i));
            }
        } catch (InvalidProtocolBufferException | IndexOutOfBoundsException e) {
            for (Pending p : batch) {
                p.result().completeExceptionally(e);
            }
        }
    }
}

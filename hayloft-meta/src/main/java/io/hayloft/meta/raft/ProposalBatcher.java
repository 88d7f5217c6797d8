package io.hayloft.meta.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * at once, alone, and under heavy load batches grow by themselves, with no timer.
 */
public final class ProposalBatcher {
    private final Function<Message, CompletableFuture<RaftClientReply>> sender;
    private final int batchCommandsMax;
    private final int inFlightMax;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();

    private record Pending(MetaCommand command, CompletableFuture<MetaResult> result) {}

    /**
     * @param sender sends one log entry through Raft, e.g. {@code client.async()::send}
     */
    public ProposalBatcher(Function<Message, CompletableFuture<RaftClientReply>> sender, int batchCommandsMax,
            int inFlightMax) {
        if (batchCommandsMax < 1 || inFlightMax < 1) {
            throw new IllegalArgumentException("batchCommandsMax and inFlightMax must be positive");
        }
        this.sender = sender;
        this.batchCommandsMax = batchCommandsMax;
        this.inFlightMax = inFlightMax;
    }

    /** Proposes the command; the future completes with its result once the entry is applied. */
    public CompletableFuture<MetaResult> submit(MetaCommand command) {
        CompletableFuture<MetaResult> result = new CompletableFuture<>();
        queue.add(new Pending(command, result));
        flush();
        return result;
    }

    private void flush() {
        while (!queue.isEmpty()) {
            int n = inFlight.get();
            if (n >= inFlightMax) {
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
            if (batch.isEmpty()) {
                inFlight.decrementAndGet();
                continue;
            }
            send(batch);
        }
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

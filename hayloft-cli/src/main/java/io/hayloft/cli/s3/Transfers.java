package io.hayloft.cli.s3;

import io.hayloft.cli.Terminal;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** When a transfer gets a progress bar, and what it looks like (on standard error, in MiB). */
final class Transfers {
    /** Transfers smaller than this are over before a bar would be worth drawing. */
    static final long PROGRESS_BYTES_MIN = 16L << 20;

    private Transfers() {}

    static boolean showProgress(long bytes, boolean disabled) {
        return !disabled && bytes >= PROGRESS_BYTES_MIN && Terminal.interactive();
    }

    static ProgressBarBuilder bar(String task, long bytes) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(bytes).setUnit(" MiB", 1L << 20)
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setUpdateIntervalMillis(250);
    }

    static ProgressBar start(String task, long bytes) {
        return bar(task, bytes).build();
    }
}

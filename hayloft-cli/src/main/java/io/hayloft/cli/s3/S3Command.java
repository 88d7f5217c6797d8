package io.hayloft.cli.s3;

import io.hayloft.cli.CliException;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The shape of every S3 command: one client for the command's run, and S3 failures turned into
 * exit codes and one-line messages about the command's target.
 */
abstract class S3Command implements Callable<Integer> {
    @Mixin
    S3Options s3Options;

    @Spec
    CommandSpec spec;

    /** The bucket or object the command works on, for messages. */
    abstract String target();

    /** Does the work; returns the exit code. */
    abstract int run(S3Client s3) throws IOException;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    @Override
    public final Integer call() throws IOException {
        try (S3Client s3 = s3Options.client()) {
            int code = run(s3);
            out().flush();
            return code;
        } catch (SdkException e) {
            throw S3Failures.of(e, target(), s3Options.endpoint());
        } catch (IllegalArgumentException e) {
            // The SDK checks names before sending (a bucket name of 3 to 63 characters, ...).
            throw CliException.usage(target() + ": " + e.getMessage());
        }
    }
}

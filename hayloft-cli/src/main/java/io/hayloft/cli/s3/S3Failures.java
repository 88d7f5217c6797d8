package io.hayloft.cli.s3;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Set;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** What a failed S3 call means for the person who typed the command, as a {@link CliException}. */
public final class S3Failures {
    private static final Set<String> AUTH_CODES = Set.of("AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "AuthorizationHeaderMalformed", "ExpiredToken", "RequestTimeTooSkewed");

    private S3Failures() {}

    /**
     * @param target the bucket or object the command worked on, for the message
     * @param endpoint where the request went
     */
    public static CliException of(SdkException e, String target, URI endpoint) {
        if (e instanceof S3Exception s) {
            String code = s.awsErrorDetails() == null ? "" : s.awsErrorDetails().errorCode();
            code = code == null ? "" : code;
            if (s.statusCode() == 404 || code.startsWith("NoSuch")) {
                String what = "NoSuchBucket".equals(code) ? "no such bucket" : "not found";
                return new CliException(Exit.NOT_FOUND, what + ": " + target, e);
            }
            if (s.statusCode() == 403 || AUTH_CODES.contains(code)) {
                return new CliException(Exit.AUTH, "access denied to " + target + " (" + describe(s, code)
                        + "); check HAYLOFT_ACCESS_KEY and HAYLOFT_SECRET_KEY", e);
            }
            return new CliException(Exit.FAILURE, target + ": " + describe(s, code), e);
        }
        if (e instanceof SdkClientException && unreachable(e)) {
            return new CliException(Exit.UNREACHABLE, "cannot reach " + endpoint + ": " + rootMessage(e), e);
        }
        return new CliException(Exit.FAILURE, target + ": " + e.getMessage(), e);
    }

    private static String describe(S3Exception s, String code) {
        String message = s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorMessage();
        String text = code.isEmpty() ? "HTTP " + s.statusCode() : code + ", HTTP " + s.statusCode();
        return message == null || message.isEmpty() ? text : message + " (" + text + ")";
    }

    private static boolean unreachable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectException || c instanceof UnknownHostException
                    || c instanceof NoRouteToHostException || c instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}

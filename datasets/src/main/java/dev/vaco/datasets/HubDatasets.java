package dev.vaco.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Hugging Face Hub datasets as local Parquet files, cached like {@code huggingface_hub} does:
 * {@code $HF_HUB_CACHE} (default {@code $HF_HOME/hub}, default {@code ~/.cache/huggingface/hub}) /
 * {@code datasets--{owner}--{name}/snapshots/{revision}/{path in repo}}. Simplification: the snapshot
 * folder is named by the revision we asked for ({@code main}, or {@code refs--convert--parquet} for
 * the Hub's auto-converted files) rather than by commit hash, and there are no blobs/refs indirections.
 *
 * <p>Resolution of (repo, config, split), online:
 * <ol>
 *   <li>the repo tree {@code GET {endpoint}/api/datasets/{repo}/tree/main/{config}} (and {@code data}
 *       for config {@code default}); files named {@code {split}-*.parquet} or {@code {split}.parquet} are
 *       fetched from {@code {endpoint}/datasets/{repo}/resolve/main/{path}} (gsm8k:
 *       {@code main/test-00000-of-00001.parquet});</li>
 *   <li>otherwise the Parquet conversion listing {@code GET {endpoint}/api/datasets/{repo}/parquet/{config}/{split}},
 *       a JSON list of URLs, each fetched into {@code snapshots/refs--convert--parquet/{config}/{split}/}.</li>
 * </ol>
 * Files already in the cache with the listed size are not downloaded again. When the Hub is unreachable
 * (connection refused, unknown host, time-out) or {@code HF_HUB_OFFLINE=1}, cached files are used;
 * without them a {@link DatasetUnavailableException} says which files to place where.
 * {@code HF_TOKEN}, when set, is sent as a bearer token.
 */
public final class HubDatasets {

    /** Where and how to reach the Hub. */
    public record Config(URI endpoint, Path hubCache, boolean offline, String token, Duration timeout) {
        public Config {
            Objects.requireNonNull(endpoint, "endpoint");
            Objects.requireNonNull(hubCache, "hubCache");
            Objects.requireNonNull(timeout, "timeout");
            String s = endpoint.toString();
            if (s.endsWith("/")) {
                endpoint = URI.create(s.substring(0, s.length() - 1));
            }
        }

        /** The process environment, read as the Hugging Face clients do. */
        public static Config fromEnvironment() {
            return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
        }

        /**
         * {@code HF_ENDPOINT} (default {@code https://huggingface.co}), {@code HF_HUB_CACHE}, else
         * {@code HF_HOME/hub}, else {@code XDG_CACHE_HOME/huggingface/hub}, else
         * {@code ~/.cache/huggingface/hub}; {@code HF_HUB_OFFLINE} in {1, true, yes, on}; {@code HF_TOKEN}.
         */
        public static Config fromEnvironment(Map<String, String> env, Path home) {
            String endpoint = nonBlank(env.get("HF_ENDPOINT"), "https://huggingface.co");
            Path cache;
            if (nonBlank(env.get("HF_HUB_CACHE"), null) != null) {
                cache = Path.of(env.get("HF_HUB_CACHE"));
            } else if (nonBlank(env.get("HF_HOME"), null) != null) {
                cache = Path.of(env.get("HF_HOME")).resolve("hub");
            } else if (nonBlank(env.get("XDG_CACHE_HOME"), null) != null) {
                cache = Path.of(env.get("XDG_CACHE_HOME")).resolve("huggingface").resolve("hub");
            } else {
                cache = home.resolve(".cache").resolve("huggingface").resolve("hub");
            }
            String off = nonBlank(env.get("HF_HUB_OFFLINE"), "0").strip().toLowerCase(java.util.Locale.ROOT);
            boolean offline = off.equals("1") || off.equals("true") || off.equals("yes") || off.equals("on");
            return new Config(URI.create(endpoint), cache, offline, nonBlank(env.get("HF_TOKEN"), null),
                    Duration.ofSeconds(30));
        }

        private static String nonBlank(String s, String otherwise) {
            return s == null || s.isBlank() ? otherwise : s;
        }
    }

    /** Thrown when a split is neither cached nor downloadable; the message says what to place where. */
    public static final class DatasetUnavailableException extends RuntimeException {
        public DatasetUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");
    private static final String CONVERTED = "refs--convert--parquet";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Config config;
    private final HttpClient http;

    public HubDatasets(Config config) {
        this.config = Objects.requireNonNull(config, "config");
        this.http = HttpClient.newBuilder()
                .connectTimeout(config.timeout())
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    /** Resolves with the process environment ({@link Config#fromEnvironment()}). */
    public static List<Path> resolve(String repo, String configName, String split) {
        return new HubDatasets(Config.fromEnvironment()).files(repo, configName, split);
    }

    /** Resolves and loads the split with the given adapter; the source name is {@code repo/config/split}. */
    public List<Problem> load(String repo, String configName, String split, RecordAdapter adapter) {
        return Datasets.loadAll(files(repo, configName, split), adapter, repo + "/" + configName + "/" + split);
    }

    /** The local Parquet files of one split, downloading them when needed and possible. */
    public List<Path> files(String repo, String configName, String split) {
        requireMatch(REPO, repo, "repo");
        requireMatch(NAME, configName, "config");
        requireMatch(NAME, split, "split");
        if (config.offline()) {
            return cachedOr(repo, configName, split, "HF_HUB_OFFLINE is set", null);
        }
        try {
            List<Path> fromTree = viaTree(repo, configName, split);
            if (!fromTree.isEmpty()) {
                return fromTree;
            }
            return viaParquetListing(repo, configName, split);
        } catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
            return cachedOr(repo, configName, split, "the Hub at " + config.endpoint() + " is unreachable ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectException || e.getCause() instanceof UnknownHostException) {
                return cachedOr(repo, configName, split, "the Hub at " + config.endpoint() + " is unreachable ("
                        + e.getCause() + ")", e);
            }
            throw new UncheckedIOException("downloading " + repo + " (config '" + configName + "', split '" + split
                    + "') from " + config.endpoint() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while downloading " + repo, e);
        }
    }

    /** The cache folder of a dataset repo, e.g. {@code .../hub/datasets--openai--gsm8k}. */
    public Path repoCache(String repo) {
        requireMatch(REPO, repo, "repo");
        return config.hubCache().resolve("datasets--" + repo.replace("/", "--"));
    }

    private List<Path> viaTree(String repo, String configName, String split) throws IOException, InterruptedException {
        List<String> folders = configName.equals("default") ? List.of("default", "data") : List.of(configName);
        for (String folder : folders) {
            HttpResponse<byte[]> res = get(URI.create(config.endpoint() + "/api/datasets/" + repo + "/tree/main/" + folder));
            if (res.statusCode() == 404) {
                continue;
            }
            requireOk(res, "listing the repo tree");
            List<Path> out = new ArrayList<>();
            for (JsonNode entry : parseJson(res, "the repo tree")) {
                String path = entry.path("path").asText("");
                String fileName = path.substring(path.lastIndexOf('/') + 1);
                boolean isFile = entry.path("type").asText("file").equals("file");
                if (isFile && fileName.endsWith(".parquet")
                        && (fileName.startsWith(split + "-") || fileName.equals(split + ".parquet"))) {
                    long size = entry.path("size").asLong(-1);
                    URI url = URI.create(config.endpoint() + "/datasets/" + repo + "/resolve/main/" + path);
                    out.add(download(url, repoCache(repo).resolve("snapshots").resolve("main").resolve(safePath(path)), size));
                }
            }
            if (!out.isEmpty()) {
                out.sort(null);
                return out;
            }
        }
        return List.of();
    }

    private List<Path> viaParquetListing(String repo, String configName, String split)
            throws IOException, InterruptedException {
        URI listing = URI.create(config.endpoint() + "/api/datasets/" + repo + "/parquet/" + configName + "/" + split);
        HttpResponse<byte[]> res = get(listing);
        if (res.statusCode() == 404) {
            throw new DatasetUnavailableException(repo + ": the Hub has no Parquet files for config '" + configName
                    + "', split '" + split + "' (HTTP 404 from " + listing + " and no matching file in the repo tree)",
                    null);
        }
        requireOk(res, "listing the Parquet conversion");
        Path dir = repoCache(repo).resolve("snapshots").resolve(CONVERTED).resolve(configName).resolve(split);
        List<Path> out = new ArrayList<>();
        for (JsonNode url : parseJson(res, "the Parquet listing")) {
            if (!url.isTextual()) {
                throw new IOException(listing + ": expected a JSON list of URL strings, found an element " + url);
            }
            URI uri = config.endpoint().resolve(url.textValue());
            String p = uri.getPath();
            out.add(download(uri, dir.resolve(safePath(p.substring(p.lastIndexOf('/') + 1))), -1));
        }
        if (out.isEmpty()) {
            throw new DatasetUnavailableException(repo + ": the Parquet listing " + listing + " is empty", null);
        }
        out.sort(null);
        return out;
    }

    private Path download(URI url, Path target, long expectedSize) throws IOException, InterruptedException {
        if (Files.isRegularFile(target) && (expectedSize < 0 || Files.size(target) == expectedSize)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".incomplete");
        try {
            HttpResponse<Path> res = http.send(request(url),
                    HttpResponse.BodyHandlers.ofFile(tmp));
            if (res.statusCode() != 200) {
                throw new IOException("GET " + url + ": expected HTTP 200, found " + res.statusCode());
            }
            if (expectedSize >= 0 && Files.size(tmp) != expectedSize) {
                throw new IOException("GET " + url + ": expected " + expectedSize + " bytes, found " + Files.size(tmp));
            }
            // Rename into place only when complete, so a crash never leaves a truncated file in the cache.
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private List<Path> cachedOr(String repo, String configName, String split, String why, Throwable cause) {
        List<Path> cached = cached(repo, configName, split);
        if (!cached.isEmpty()) {
            return cached;
        }
        Path snapshots = repoCache(repo).resolve("snapshots");
        String treeExample = configName + "/" + split + "-00000-of-00001.parquet";
        throw new DatasetUnavailableException(repo + " (config '" + configName + "', split '" + split
                + "') is not in the local cache and " + why + ". Place the split's Parquet files at "
                + snapshots.resolve("main").resolve(configName) + "/" + split + "-*.parquet (the repo files, e.g. "
                + config.endpoint() + "/datasets/" + repo + "/resolve/main/" + treeExample + " saved as "
                + snapshots.resolve("main").resolve(treeExample) + "), or the Hub's converted files at "
                + snapshots.resolve(CONVERTED).resolve(configName).resolve(split) + "/*.parquet"
                + " (listed by " + config.endpoint() + "/api/datasets/" + repo + "/parquet/" + configName + "/" + split
                + "); the cache root comes from HF_HUB_CACHE or HF_HOME.", cause);
    }

    /** Cached files of a split in any snapshot, in the layouts {@link #files} writes. */
    List<Path> cached(String repo, String configName, String split) {
        Path snapshots = repoCache(repo).resolve("snapshots");
        if (!Files.isDirectory(snapshots)) {
            return List.of();
        }
        List<Path> revisions = list(snapshots, "*");
        revisions.sort(null);
        List<String> folders = configName.equals("default") ? List.of("default", "data") : List.of(configName);
        for (Path rev : revisions) {
            for (String folder : folders) {
                List<Path> found = new ArrayList<>(list(rev.resolve(folder), split + "-*.parquet"));
                found.addAll(list(rev.resolve(folder), split + ".parquet"));
                found.addAll(list(rev.resolve(folder).resolve(split), "*.parquet"));
                found.removeIf(p -> !Files.isRegularFile(p));
                if (!found.isEmpty()) {
                    found.sort(null);
                    return found;
                }
            }
        }
        return List.of();
    }

    private static List<Path> list(Path dir, String glob) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob)) {
            ds.forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private HttpRequest request(URI url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(config.timeout()).GET();
        if (config.token() != null) {
            b.header("Authorization", "Bearer " + config.token());
        }
        return b.build();
    }

    private HttpResponse<byte[]> get(URI url) throws IOException, InterruptedException {
        return http.send(request(url), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void requireOk(HttpResponse<byte[]> res, String what) throws IOException {
        if (res.statusCode() != 200) {
            throw new IOException(what + ": GET " + res.uri() + ": expected HTTP 200, found " + res.statusCode());
        }
    }

    private static JsonNode parseJson(HttpResponse<byte[]> res, String what) throws IOException {
        JsonNode node;
        try (InputStream in = new java.io.ByteArrayInputStream(res.body())) {
            node = JSON.readTree(in);
        }
        if (node == null || !node.isArray()) {
            throw new IOException(what + ": GET " + res.uri() + ": expected a JSON list, found "
                    + (node == null ? "nothing" : node.getNodeType()));
        }
        return node;
    }

    /** A repo-relative path made safe to resolve under the cache (no absolute paths, no '..'). */
    private static Path safePath(String repoPath) {
        Path p = Path.of(repoPath).normalize();
        if (p.isAbsolute() || p.startsWith("..") || repoPath.isBlank()) {
            throw new IllegalArgumentException("unsafe path from the Hub: " + repoPath);
        }
        return p;
    }

    private static void requireMatch(Pattern pattern, String value, String what) {
        if (value == null || !pattern.matcher(value).matches() || value.contains("..")) {
            throw new IllegalArgumentException(what + " must match " + pattern + ", found " + value);
        }
    }
}

package dev.vaco.bench;

import dev.vaco.model.ModelConfig;
import dev.vaco.model.ModelDir;
import dev.vaco.server.Server;
import dev.vaco.server.batch.EngineOptions;
import dev.vaco.server.engine.PolicyOptions;
import dev.vaco.server.http.InferenceServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The serving benchmark's PyTorch side ({@code bench/src/main/python/torch_generate_baseline.py}, run by
 * {@code /usr/bin/python3}): its BLAS's matmul ceiling, its eager generation loop on the same model dirs, and the check
 * that it runs the same network as the server (greedy continuations agree).
 */
final class TorchServingBaseline {
    private TorchServingBaseline() {}

    /** The fp32 matmul ceiling of the baseline's torch (its BLAS), measured by the baseline script the same way. */
    static double torchCeiling() throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", torchScript().toString(), "--ceiling")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("torch ceiling failed: " + out);
        return new JsonObject(out.substring(out.lastIndexOf('{'))).getDouble("ceiling_gflops");
    }

    static Path torchScript() {
        return BenchScripts.python("torch_generate_baseline.py");
    }

    static List<String> runTorch(Path dir, int prompt, int completion, int[] levels) throws Exception {
        Path script = torchScript();
        StringBuilder b = new StringBuilder();
        for (int l : levels) b.append(b.isEmpty() ? "" : ",").append(l);
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", script.toString(), "--model-dir", dir.toString(),
                "--batches", b.toString(), "--prompt-len", Integer.toString(prompt), "--new-tokens", Integer.toString(completion));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println("  torch: " + line);
                if (line.startsWith("{")) out.add(line);
            }
        }
        if (p.waitFor() != 0) throw new IllegalStateException("torch baseline failed: exit " + p.exitValue());
        return out;
    }

    /** Greedy (temperature 0) 32-token continuations of 3 prompts by the server and by the PyTorch script. */
    static void checkTorch(Path dir) throws Exception {
        ModelConfig c = ModelDir.config(dir);
        try (Server s = Server.start(dir, new InferenceServer.Settings("127.0.0.1", 0, "check", ServingBench.TOKEN, 1L << 31),
                new EngineOptions(8, 16, 1, PolicyOptions.DEFAULT))) {
            for (int id = 0; id < 3; id++) {
                JsonObject req = new JsonObject(ServingLoop.body(c, id, 64, 32, 1)).put("temperature", 0.0);
                HttpResponse<String> resp = ServingLoop.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/generate"))
                        .POST(HttpRequest.BodyPublishers.ofString(req.encode())).build(), HttpResponse.BodyHandlers.ofString());
                JsonArray vaco = new JsonObject(resp.body()).getJsonArray("samples").getJsonObject(0).getJsonArray("token_ids");
                StringBuilder ids = new StringBuilder();
                for (Object o : req.getJsonArray("prompt_token_ids")) ids.append(ids.isEmpty() ? "" : ",").append(o);
                Process p = new ProcessBuilder("/usr/bin/python3", torchScript().toString(), "--model-dir", dir.toString(),
                        "--check-prompt", ids.toString(), "--check-tokens", "32").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                p.waitFor();
                JsonArray torch = new JsonObject(out.substring(out.lastIndexOf('{'))).getJsonArray("check_tokens");
                int same = 0;
                while (same < vaco.size() && same < torch.size() && vaco.getInteger(same).equals(torch.getInteger(same))) same++;
                System.out.printf("prompt %d: first %d of 32 greedy tokens identical%n  vaco  %s%n  torch %s%n", id, same, vaco, torch);
            }
        }
    }
}

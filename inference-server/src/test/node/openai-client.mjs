// Drives a running vaco server with the official OpenAI client: completions and chat, streaming and not.
// Usage: node openai-client.mjs BASE_URL MODEL   (prints one JSON object with what the client received)
// The API key is the client's usual $OPENAI_API_KEY (the server's --api-key), "unused" when unset.
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || "unused", maxRetries: 0 });

const completion = await client.completions.create({ model, prompt: "12+30=", max_tokens: 12, seed: 5, logprobs: 2 });

const chat = await client.chat.completions.create({
  model, messages: [{ role: "user", content: "What is 2+2?" }], max_tokens: 12, seed: 5, n: 2, logprobs: true, top_logprobs: 1,
});

const stream = await client.chat.completions.create({
  model, messages: [{ role: "user", content: "What is 2+2?" }], max_tokens: 12, seed: 5, n: 2, stream: true,
  stream_options: { include_usage: true },
});
const streamed = ["", ""];
let streamFinish = [null, null], streamUsage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) streamUsage = chunk.usage;
  for (const c of chunk.choices) {
    if (c.delta?.content) streamed[c.index] += c.delta.content;
    if (c.finish_reason) streamFinish[c.index] = c.finish_reason;
  }
}

const completionStream = await client.completions.create({ model, prompt: "12+30=", max_tokens: 12, seed: 5, stream: true });
let completionStreamed = "";
for await (const chunk of completionStream) completionStreamed += chunk.choices[0]?.text ?? "";

let badRequest = null;
try {
  await client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], temperature: -3 });
} catch (e) {
  badRequest = { status: e.status, param: e.param ?? e.error?.param ?? null };
}

const models = await client.models.list();

console.log(JSON.stringify({
  completionText: completion.choices[0].text,
  completionTokens: completion.choices[0].logprobs.tokens.length,
  completionUsage: completion.usage,
  chatTexts: chat.choices.map((c) => c.message.content),
  chatLogprobTokens: chat.choices[0].logprobs.content.length,
  chatFinish: chat.choices.map((c) => c.finish_reason),
  streamed, streamFinish, streamUsage, chunks,
  completionStreamed,
  badRequest,
  modelIds: models.data.map((m) => m.id),
}));

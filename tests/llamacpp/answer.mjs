// Greedy answers from llama.cpp itself (node-llama-cpp's prebuilt CPU binary), for the GGUF export test.
// stdin: {"model": path, "prompts": [text, ...], "max_tokens": n}
// stdout: [{"prompt_ids": [...], "answer_ids": [...], "answer": text}, ...]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));

// Never build or download: only the prebuilt binary from npm's @node-llama-cpp/linux-x64 package.
// One thread: ggml's threads wait for each other by spinning, which on a busy 2-core machine (other tests,
// benchmarks) made some answers 20 times slower; one thread answers a row in about a second.
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
                              progressLogs: false, logLevel: LlamaLogLevel.error, maxThreads: 1});
const model = await llama.loadModel({modelPath: job.model});
const results = [];
for (const prompt of job.prompts) {
    // A fresh context per prompt: every answer starts from the same empty state.
    const context = await model.createContext({contextSize: 1024, batchSize: 512, threads: 1});
    const sequence = context.getSequence();
    const started = Date.now();
    const promptIds = model.tokenize(prompt, true);  // special tokens such as <|im_start|> are parsed
    const answerIds = [];
    for await (const token of sequence.evaluate(promptIds, {temperature: 0})) {
        if (model.isEogToken(token) || answerIds.length >= job.max_tokens) break;
        answerIds.push(token);
    }
    if (process.env.LLAMACPP_TIMING) console.error(Date.now() - started, promptIds.length, answerIds.length);
    results.push({prompt_ids: promptIds, answer_ids: answerIds, answer: model.detokenize(answerIds)});
    await context.dispose();
}
process.stdout.write(JSON.stringify(results));
await model.dispose();

<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>moescope::gui::MainWindow</name>
    <message>
        <source>Could not open %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model ready: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MoEScope — mixture-of-experts profiler</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Light</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dark</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About MoEScope</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No default model: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About MoEScope</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;A profiler for mixture-of-experts inference: it runs MoE models on its own CPU engine, offloads their experts to a bounded cache, and shows every token&apos;s routing, cache hits and stalls live.&lt;/p&gt;&lt;p&gt;Built with Qt %2. Licensed under the Apache License 2.0.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>moescope::views::ModelPanel</name>
    <message>
        <source>Loading %1 …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a GGUF model file (you can also drop one on the window)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recent models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Property</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model loaded. Open a GGUF file or drop one here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Embedding width</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attention heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (KV %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Routed experts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 per layer, top-%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shared experts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MoE layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dense layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vocabulary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tokens (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training context</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 total, %2 active per token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expert weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 experts × %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tensor types</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n tensor(s), %1</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
</context>
<context>
    <name>moescope::views::PromptPanel</name>
    <message>
        <source>Failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a prompt, then Generate (Ctrl+Return)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Generate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Generate from the prompt with the current settings (Ctrl+Return)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop after the current token (Esc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a model to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n token(s) generated</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>moescope::views::RunStatus</name>
    <message>
        <source>%1 tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decode speed of the current run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hit rate %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decode hit rate of the chosen policy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stall %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Share of the run&apos;s time the forward pass waited for experts (measured)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Share of modelled time compute waited for expert loads</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>moescope::views::SettingsPanel</name>
    <message>
        <source>Generation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Repeat penalty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>until the end</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>greedy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expert cache</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offload experts (real expert store)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>On: experts are really loaded into a bounded cache and the forward pass waits for them. Off: experts stay mapped and every policy is simulated on the routing.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prefetcher</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Link</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allocator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Share of the model&apos;s routed experts the cache may hold</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emulated link between the slow tier and the cache; loads are paced to it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compare policies</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policies simulated on the same access stream and budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (oracle)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the Belady and SCH bounds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SCH window (tokens)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lossy gating variants (change the output)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>These variants change which experts compute, so the text differs from the exact model. Not available in this engine yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adaptive top-k (lossy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cache-aware expert substitution (lossy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a model to see the budget in experts and bytes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 experts, about %3</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>moescope::views::TextPanel</name>
    <message>
        <source>Colour by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cache misses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stall time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expert at layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Router entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The MoE layer for &quot;Expert at layer&quot; and the token × expert heatmap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Missed selections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stall (measured)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stall (modelled)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-1 expert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>0 bits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 bits</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenTextView</name>
    <message>
        <source>Generated tokens appear here, coloured by the chosen measure. Hover a token for its routing path, click it to select it everywhere.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Token %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(id %1, %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>generated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not routed yet: a token is routed when it is fed back.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>prefill</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>decode</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stall %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Experts (weight)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cache (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>prefetched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>miss</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>

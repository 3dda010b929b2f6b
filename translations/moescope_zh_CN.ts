<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>QObject</name>
    <message>
        <source>%1: cannot draw the view</source>
        <translation>%1：无法绘制该视图</translation>
    </message>
</context>
<context>
    <name>moescope::gui::MainWindow</name>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>运行失败：%1</translation>
    </message>
    <message>
        <source>Model ready: %1</source>
        <translation>模型已就绪：%1</translation>
    </message>
    <message>
        <source>MoEScope — mixture-of-experts profiler</source>
        <translation>MoEScope — 混合专家模型分析器</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open model…</source>
        <translation>打开模型(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>生成(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About MoEScope</source>
        <translation>关于 MoEScope(&amp;A)</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>关于 Qt(&amp;Q)</translation>
    </message>
    <message>
        <source>No default model: %1</source>
        <translation>没有默认模型：%1</translation>
    </message>
    <message>
        <source>About MoEScope</source>
        <translation>关于 MoEScope</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;A profiler for mixture-of-experts inference: it runs MoE models on its own CPU engine, offloads their experts to a bounded cache, and shows every token&apos;s routing, cache hits and stalls live.&lt;/p&gt;&lt;p&gt;Built with Qt %2. Licensed under the Apache License 2.0.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;混合专家（MoE）推理分析器：它在自带的 CPU 引擎上运行 MoE 模型，将专家卸载到容量受限的缓存中，并实时显示每个词元的路由、缓存命中与等待时间。&lt;/p&gt;&lt;p&gt;基于 Qt %2 构建。依据 Apache License 2.0 授权。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Layer × expert</source>
        <translation>层 × 专家</translation>
    </message>
    <message>
        <source>Token × expert</source>
        <translation>词元 × 专家</translation>
    </message>
    <message>
        <source>Expert affinity</source>
        <translation>专家亲和性</translation>
    </message>
    <message>
        <source>Policy comparison</source>
        <translation>策略对比</translation>
    </message>
    <message>
        <source>Hit rate vs capacity</source>
        <translation>命中率与容量</translation>
    </message>
    <message>
        <source>Traces</source>
        <translation>轨迹</translation>
    </message>
    <message>
        <source>Open &amp;trace…</source>
        <translation>打开轨迹(&amp;T)…</translation>
    </message>
    <message>
        <source>length limit reached</source>
        <translation>达到长度上限</translation>
    </message>
    <message>
        <source>end of generation</source>
        <translation>生成结束</translation>
    </message>
    <message>
        <source>stop string</source>
        <translation>停止字符串</translation>
    </message>
    <message>
        <source>context full</source>
        <translation>上下文已满</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Run finished: %1 tokens generated in %2 s (%3)</source>
        <translation>运行结束：%2 秒内生成 %1 个词元（%3）</translation>
    </message>
    <message>
        <source>Showing run %1 of %2</source>
        <translation>正在显示 %2 的运行 %1</translation>
    </message>
    <message>
        <source>Suitability</source>
        <translation>适用性</translation>
    </message>
    <message>
        <source>Reading %1 …</source>
        <translation>正在读取 %1 …</translation>
    </message>
    <message>
        <source>recorded with %1, not the loaded model</source>
        <translation>由 %1 录制，而非当前加载的模型</translation>
    </message>
    <message>
        <source>%1, run %2</source>
        <translation>%1，运行 %2</translation>
    </message>
    <message>
        <source>Open a trace</source>
        <translation>打开追踪文件</translation>
    </message>
    <message>
        <source>MoEScope traces (*.sqlite);;All files (*)</source>
        <translation>MoEScope 追踪文件 (*.sqlite);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Nothing to export: open a trace, or record the run (Settings → Recording) and open it</source>
        <translation>没有可导出的内容：请打开追踪文件，或录制运行（设置 → 录制）后再打开</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>已导出 %1</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Export writes the run on show from its trace. Open a trace (File → Open trace), or record runs (Settings → Recording) and open the trace.</source>
        <translation>导出会从追踪文件写出当前显示的运行。请打开追踪文件（文件 → 打开追踪），或录制运行（设置 → 录制）后打开该追踪文件。</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>&amp;Export</source>
        <translation>导出(&amp;E)</translation>
    </message>
    <message>
        <source>CSV: %1 table…</source>
        <translation>CSV：%1 表…</translation>
    </message>
    <message>
        <source>JSON (everything the run holds)…</source>
        <translation>JSON（运行的全部内容）…</translation>
    </message>
    <message>
        <source>Perfetto / Chrome trace…</source>
        <translation>Perfetto / Chrome 追踪…</translation>
    </message>
    <message>
        <source>HTML report…</source>
        <translation>HTML 报告…</translation>
    </message>
    <message>
        <source>PDF report…</source>
        <translation>PDF 报告…</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
</context>
<context>
    <name>moescope::views::AffinityGraphView</name>
    <message>
        <source>The affinity graph appears once tokens have been routed.</source>
        <translation>词元完成路由后将显示亲和性图。</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>L%1</translation>
    </message>
    <message>
        <source>Layer %1, expert %2: chosen %3 times</source>
        <translation>第 %1 层，专家 %2：被选中 %3 次</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Next layer: %1</source>
        <translation>下一层：%1</translation>
    </message>
    <message>
        <source>E%1</source>
        <translation>E%1</translation>
    </message>
</context>
<context>
    <name>moescope::views::AffinityPanel</name>
    <message>
        <source>Edges from</source>
        <translation>边阈值</translation>
    </message>
    <message>
        <source>Draw an edge e → e′ when P(e′ at layer l+1 | e at layer l) is at least this</source>
        <translation>当 P(第 l+1 层选 e′ | 第 l 层选 e) 不低于该值时绘制边 e → e′</translation>
    </message>
    <message>
        <source>Co-activation within a layer</source>
        <translation>层内共同激活</translation>
    </message>
    <message>
        <source>Arcs between experts that one token selects together</source>
        <translation>同一词元同时选择的专家之间的弧线</translation>
    </message>
</context>
<context>
    <name>moescope::views::CapacityCurvesPanel</name>
    <message>
        <source>Layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>All layers</source>
        <translation>所有层</translation>
    </message>
    <message>
        <source>Hit rate against cache capacity (one pass, every capacity)</source>
        <translation>命中率随缓存容量的变化（一次遍历，覆盖所有容量）</translation>
    </message>
    <message>
        <source>Capacity (% of the experts)</source>
        <translation>容量（专家的百分比）</translation>
    </message>
    <message>
        <source>Hit rate</source>
        <translation>命中率</translation>
    </message>
    <message>
        <source>LRU, per layer</source>
        <translation>LRU，按层</translation>
    </message>
    <message>
        <source>OPT, per layer</source>
        <translation>OPT，按层</translation>
    </message>
    <message>
        <source>LRU, one pool</source>
        <translation>LRU，共享池</translation>
    </message>
    <message>
        <source>OPT, one pool</source>
        <translation>OPT，共享池</translation>
    </message>
    <message>
        <source>budget (%1 experts)</source>
        <translation>预算（%1 个专家）</translation>
    </message>
</context>
<context>
    <name>moescope::views::HeatmapView</name>
    <message>
        <source>No data yet: generate, or open a trace</source>
        <translation>尚无数据：请生成或打开追踪文件</translation>
    </message>
</context>
<context>
    <name>moescope::views::LayerExpertModel</name>
    <message>
        <source>Layer %1, expert %2</source>
        <translation>第 %1 层，专家 %2</translation>
    </message>
    <message>
        <source>Activations: %1 of %2 tokens</source>
        <translation>激活次数：%2 个词元中的 %1 个</translation>
    </message>
    <message>
        <source>Cache (%1): %2 hits of %3 accesses</source>
        <translation>缓存（%1）：%3 次访问中命中 %2 次</translation>
    </message>
    <message>
        <source>Resident for %1 of %2 tokens (%3)</source>
        <translation>在 %2 个词元中驻留 %1 个（%3）</translation>
    </message>
    <message>
        <source>L%1 (block %2)</source>
        <translation>L%1（块 %2）</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>L%1</translation>
    </message>
</context>
<context>
    <name>moescope::views::LayerExpertPanel</name>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Activations</source>
        <translation>激活次数</translation>
    </message>
    <message>
        <source>Hit rate</source>
        <translation>命中率</translation>
    </message>
    <message>
        <source>Residency</source>
        <translation>驻留时间</translation>
    </message>
    <message>
        <source>Activations: how often the router chose the expert. Hit rate: share of its accesses the chosen policy served from the cache. Residency: share of the run it spent in the cache.</source>
        <translation>激活次数：路由器选择该专家的次数。命中率：所选策略从缓存中满足的访问比例。驻留时间：该专家在缓存中停留的时间占整个运行的比例。</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Fit the grid to the view (0); zoom with Ctrl+wheel or +/-, drag to pan</source>
        <translation>使网格适应视图 (0)；用 Ctrl+滚轮或 +/- 缩放，拖动以平移</translation>
    </message>
    <message>
        <source>Time resident</source>
        <translation>驻留时间</translation>
    </message>
</context>
<context>
    <name>moescope::views::LineChart</name>
    <message>
        <source>Token %1</source>
        <translation>词元 %1</translation>
    </message>
    <message>
        <source>series</source>
        <translation>序列</translation>
    </message>
</context>
<context>
    <name>moescope::views::ModelPanel</name>
    <message>
        <source>Loading %1 …</source>
        <translation>正在加载 %1 …</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation>打开 GGUF 模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <source>Open a GGUF model file (you can also drop one on the window)</source>
        <translation>打开 GGUF 模型文件（也可以直接拖放到窗口上）</translation>
    </message>
    <message>
        <source>Recent models</source>
        <translation>最近的模型</translation>
    </message>
    <message>
        <source>Property</source>
        <translation>属性</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>No model loaded. Open a GGUF file or drop one here.</source>
        <translation>尚未加载模型。请打开 GGUF 文件或将其拖放到这里。</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Embedding width</source>
        <translation>嵌入维度</translation>
    </message>
    <message>
        <source>Attention heads</source>
        <translation>注意力头</translation>
    </message>
    <message>
        <source>%1 (KV %2)</source>
        <translation>%1（KV %2）</translation>
    </message>
    <message>
        <source>Routed experts</source>
        <translation>路由专家</translation>
    </message>
    <message>
        <source>%1 per layer, top-%2</source>
        <translation>每层 %1 个，top-%2</translation>
    </message>
    <message>
        <source>Shared experts</source>
        <translation>共享专家</translation>
    </message>
    <message>
        <source>MoE layers</source>
        <translation>MoE 层</translation>
    </message>
    <message>
        <source>Dense layers</source>
        <translation>稠密层</translation>
    </message>
    <message>
        <source>Vocabulary</source>
        <translation>词表</translation>
    </message>
    <message>
        <source>%1 tokens (%2)</source>
        <translation>%1 个词元（%2）</translation>
    </message>
    <message>
        <source>Training context</source>
        <translation>训练上下文长度</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>%1 total, %2 active per token</source>
        <translation>共 %1，每个词元激活 %2</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>文件大小</translation>
    </message>
    <message>
        <source>Expert weights</source>
        <translation>专家权重</translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>%1 experts × %2</source>
        <translation>%1 个专家 × %2</translation>
    </message>
    <message>
        <source>Tensor types</source>
        <translation>张量类型</translation>
    </message>
    <message>
        <source>tensors: %1, %2</source>
        <translation>张量：%1 个，%2</translation>
    </message>
</context>
<context>
    <name>moescope::views::PolicyComparisonPanel</name>
    <message>
        <source>%1 (oracle without prefetch, not a bound)</source>
        <translation>%1（无预取的预言策略，不是界限）</translation>
    </message>
    <message>
        <source>Hit rate</source>
        <translation>命中率</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>传输字节数</translation>
    </message>
    <message>
        <source>Stall</source>
        <translation>等待</translation>
    </message>
    <message>
        <source>Cumulative hit rate over the decode tokens</source>
        <translation>解码词元上的累计命中率</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>Expert bytes loaded (demand and prefetch)</source>
        <translation>加载的专家字节数（按需与预取）</translation>
    </message>
    <message>
        <source>MiB</source>
        <translation>MiB</translation>
    </message>
    <message>
        <source>Modelled stall: time compute waited for loads</source>
        <translation>模拟等待时间：计算等待加载的时间</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>毫秒</translation>
    </message>
    <message>
        <source>%1 (chosen)</source>
        <translation>%1（所选）</translation>
    </message>
    <message>
        <source>%1 (bound)</source>
        <translation>%1（界限）</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>Modelled stall: none without an emulated link (choose one in Settings → Link)</source>
        <translation>建模等待：未模拟链路时为零（请在 设置 → 链路 中选择）</translation>
    </message>
</context>
<context>
    <name>moescope::views::PolicyTableModel</name>
    <message>
        <source>oracle reference (not a bound)</source>
        <translation>预言策略参考（不是界限）</translation>
    </message>
    <message>
        <source>chosen</source>
        <translation>所选</translation>
    </message>
    <message>
        <source>compared (oracle)</source>
        <translation>对比（预知）</translation>
    </message>
    <message>
        <source>compared</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>bound</source>
        <translation>界限</translation>
    </message>
    <message>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Policy</source>
        <translation>策略</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Hit rate (decode)</source>
        <translation>命中率（解码）</translation>
    </message>
    <message>
        <source>Hit rate (all)</source>
        <translation>命中率（全部）</translation>
    </message>
    <message>
        <source>Misses</source>
        <translation>未命中</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>传输字节数</translation>
    </message>
    <message>
        <source>Modelled stall</source>
        <translation>模拟等待时间</translation>
    </message>
    <message>
        <source>Prefetch precision</source>
        <translation>预取精确率</translation>
    </message>
    <message>
        <source>Prefetch recall</source>
        <translation>预取召回率</translation>
    </message>
</context>
<context>
    <name>moescope::views::PromptPanel</name>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>Write a prompt, then Generate (Ctrl+Return)</source>
        <translation>输入提示词，然后生成（Ctrl+回车）</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Generate from the prompt with the current settings (Ctrl+Return)</source>
        <translation>按当前设置根据提示词生成（Ctrl+回车）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop after the current token (Esc)</source>
        <translation>在当前词元之后停止（Esc）</translation>
    </message>
    <message>
        <source>Open a model to start</source>
        <translation>请先打开一个模型</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation>正在生成…</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Generated tokens: %1</source>
        <translation>已生成词元：%1</translation>
    </message>
</context>
<context>
    <name>moescope::views::RunCompareModel</name>
    <message>
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Token, run %1</source>
        <translation>词元，运行 %1</translation>
    </message>
    <message>
        <source>Layers routed differently</source>
        <translation>路由不同的层数</translation>
    </message>
    <message>
        <source>Misses, run %1</source>
        <translation>未命中，运行 %1</translation>
    </message>
</context>
<context>
    <name>moescope::views::RunListModel</name>
    <message>
        <source>complete</source>
        <translation>完整</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>%1 (%2 prompt)</source>
        <translation>%1（提示词 %2）</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元数</translation>
    </message>
    <message>
        <source>Policies</source>
        <translation>策略</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>标签</translation>
    </message>
</context>
<context>
    <name>moescope::views::RunStatus</name>
    <message>
        <source>%1 tokens/s</source>
        <translation>%1 词元/秒</translation>
    </message>
    <message>
        <source>Decode speed of the current run</source>
        <translation>当前运行的解码速度</translation>
    </message>
    <message>
        <source>Hit rate %1</source>
        <translation>命中率 %1</translation>
    </message>
    <message>
        <source>Decode hit rate of the chosen policy</source>
        <translation>所选策略的解码命中率</translation>
    </message>
    <message>
        <source>Stall %1</source>
        <translation>等待 %1</translation>
    </message>
    <message>
        <source>Share of the run&apos;s time the forward pass waited for experts (measured)</source>
        <translation>前向计算等待专家的时间占运行时间的比例（实测）</translation>
    </message>
    <message>
        <source>Share of modelled time compute waited for expert loads</source>
        <translation>模拟时间中计算等待专家加载的比例</translation>
    </message>
</context>
<context>
    <name>moescope::views::SettingsPanel</name>
    <message>
        <source>Generation</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大新词元数</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <source>Repeat penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>until the end</source>
        <translation>直到结束</translation>
    </message>
    <message>
        <source>greedy</source>
        <translation>贪心</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Expert cache</source>
        <translation>专家缓存</translation>
    </message>
    <message>
        <source>Offload experts (real expert store)</source>
        <translation>卸载专家（真实专家存储）</translation>
    </message>
    <message>
        <source>On: experts are really loaded into a bounded cache and the forward pass waits for them. Off: experts stay mapped and every policy is simulated on the routing.</source>
        <translation>开启：专家被真实加载到容量受限的缓存中，前向计算会等待它们。关闭：专家保持内存映射，所有策略都基于路由进行模拟。</translation>
    </message>
    <message>
        <source>Budget</source>
        <translation>预算</translation>
    </message>
    <message>
        <source>Policy</source>
        <translation>策略</translation>
    </message>
    <message>
        <source>Prefetcher</source>
        <translation>预取器</translation>
    </message>
    <message>
        <source>Link</source>
        <translation>链路</translation>
    </message>
    <message>
        <source>Allocator</source>
        <translation>分配器</translation>
    </message>
    <message>
        <source>Share of the model&apos;s routed experts the cache may hold</source>
        <translation>缓存可容纳的路由专家比例</translation>
    </message>
    <message>
        <source>Emulated link between the slow tier and the cache; loads are paced to it</source>
        <translation>慢速存储与缓存之间的模拟链路；加载按其速度进行</translation>
    </message>
    <message>
        <source>Compare policies</source>
        <translation>对比策略</translation>
    </message>
    <message>
        <source>Policies simulated on the same access stream and budget</source>
        <translation>在相同访问流和预算上模拟的策略</translation>
    </message>
    <message>
        <source>%1 (oracle)</source>
        <translation>%1（预知）</translation>
    </message>
    <message>
        <source>Show the oracle references (belady-bypass, SCH)</source>
        <translation>显示预言策略参考（belady-bypass、SCH）</translation>
    </message>
    <message>
        <source>SCH window (tokens)</source>
        <translation>SCH 窗口（词元）</translation>
    </message>
    <message>
        <source>Lossy gating variants (change the output)</source>
        <translation>有损门控变体（会改变输出）</translation>
    </message>
    <message>
        <source>Open a model to see the budget in experts and bytes</source>
        <translation>打开模型后可查看以专家数和字节表示的预算</translation>
    </message>
    <message>
        <source>%1 of %2 experts, about %3</source>
        <translation>%2 个专家中的 %1 个，约 %3</translation>
    </message>
    <message>
        <source>Record runs into a trace</source>
        <translation>将运行记录到轨迹</translation>
    </message>
    <message>
        <source>MoEScope traces (*.sqlite)</source>
        <translation>MoEScope 轨迹 (*.sqlite)</translation>
    </message>
    <message>
        <source>Lossy: these variants change which experts compute, so the text differs from the exact model. They act on the real expert store (offloading on).</source>
        <translation>有损：这些变体会改变参与计算的专家，因此生成的文本与精确模型不同。它们作用于真实的专家存储（需开启卸载）。</translation>
    </message>
    <message>
        <source>Adaptive top-k (lossy), threshold</source>
        <translation>自适应 top-k（有损），阈值</translation>
    </message>
    <message>
        <source>Drop a token&apos;s trailing expert while its renormalised weight is below the threshold (AdapMoE)</source>
        <translation>当词元末位专家的重归一化权重低于阈值时将其舍弃（AdapMoE）</translation>
    </message>
    <message>
        <source>Cache-aware substitution (lossy), ε</source>
        <translation>缓存感知替换（有损），ε</translation>
    </message>
    <message>
        <source>Replace a missed expert by the most probable resident one whose router probability is within ε of it</source>
        <translation>用路由概率与之相差不超过 ε 的最可能驻留专家替换未命中的专家</translation>
    </message>
    <message>
        <source>Recording</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>Record every run into a trace</source>
        <translation>将每次运行记录到轨迹</translation>
    </message>
    <message>
        <source>trace file (.sqlite)</source>
        <translation>轨迹文件 (.sqlite)</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>No prefetching: experts are loaded when a layer asks for them</source>
        <translation>不预取：层需要专家时才加载</translation>
    </message>
    <message>
        <source>Prefetch the experts this layer used for the previous token</source>
        <translation>预取该层在上一个词元使用的专家</translation>
    </message>
    <message>
        <source>Learns online which experts follow which in the next layer and prefetches the most likely ones</source>
        <translation>在线学习下一层中哪些专家紧随哪些专家，并预取最可能的专家</translation>
    </message>
    <message>
        <source>Affinity, predicting two layers ahead</source>
        <translation>亲和性，提前两层预测</translation>
    </message>
    <message>
        <source>Prefetch the target layer&apos;s most used experts of the last 64 tokens</source>
        <translation>预取目标层在最近 64 个词元中最常用的专家</translation>
    </message>
    <message>
        <source>Next-gate speculation: the engine applies the next layer&apos;s router to the current hidden state. Its predictions are recorded while generating, so choose it before you generate</source>
        <translation>下一门控推测：引擎将下一层的路由器应用于当前隐藏状态。其预测在生成时记录，因此请在生成前选择它</translation>
    </message>
    <message>
        <source>Next-gate speculation two layers ahead</source>
        <translation>下一门控推测，提前两层</translation>
    </message>
    <message>
        <source>Unavailable: affinity tables fitted on an earlier routing trace and frozen. A live run has no earlier trace to fit on</source>
        <translation>不可用：在较早的路由轨迹上拟合并冻结的亲和性表。实时运行没有可供拟合的较早轨迹</translation>
    </message>
    <message>
        <source>Unavailable: the ExpertFlow-style path predictor is fitted on earlier routing traces. A live run has no earlier trace to fit on</source>
        <translation>不可用：ExpertFlow 式路径预测器需在较早的路由轨迹上拟合。实时运行没有可供拟合的较早轨迹</translation>
    </message>
    <message>
        <source>Unavailable: pins the most routed experts of an earlier routing trace. A live run has no earlier trace to count from</source>
        <translation>不可用：固定较早路由轨迹中被路由最多的专家。实时运行没有可供统计的较早轨迹</translation>
    </message>
    <message>
        <source>Predicts the experts of a later layer and loads them ahead. Greyed-out entries need a trace to fit on first; hover an entry for what it does</source>
        <translation>预测后续层的专家并提前加载。灰色条目需要先有可供拟合的轨迹；将鼠标悬停在条目上可查看其作用</translation>
    </message>
    <message>
        <source>Offloading: %1</source>
        <translation>卸载：%1</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>Budget: %1 %</source>
        <translation>预算：%1 %</translation>
    </message>
    <message>
        <source>Policy: %1</source>
        <translation>策略：%1</translation>
    </message>
    <message>
        <source>Prefetcher: %1</source>
        <translation>预取器：%1</translation>
    </message>
    <message>
        <source>Link: %1</source>
        <translation>链路：%1</translation>
    </message>
    <message>
        <source>Allocator: %1</source>
        <translation>分配器：%1</translation>
    </message>
    <message>
        <source>Compared: %1</source>
        <translation>对比：%1</translation>
    </message>
    <message>
        <source>Your settings are the same.</source>
        <translation>您的设置与之相同。</translation>
    </message>
    <message>
        <source>The run on show is analysed with these settings. Your settings below stay as they are; changing them re-analyses the run with yours.</source>
        <translation>当前运行按这些设置分析。下方您的设置保持不变；修改它们会按您的设置重新分析该运行。</translation>
    </message>
    <message>
        <source>The run on show is analysed with your settings below.</source>
        <translation>当前运行按下方您的设置分析。</translation>
    </message>
    <message>
        <source>Choose a trace file first (type a path or use Choose…)</source>
        <translation>请先选择追踪文件（输入路径或使用“选择…”）</translation>
    </message>
    <message>
        <source>Recorded with the trace (read-only)</source>
        <translation>随追踪文件录制的设置（只读）</translation>
    </message>
    <message>
        <source>Use these settings</source>
        <translation>使用这些设置</translation>
    </message>
    <message>
        <source>Copy the trace&apos;s recorded cache settings into your settings; the next run uses them</source>
        <translation>将追踪文件录制的缓存设置复制到您的设置中；下一次运行将使用它们</translation>
    </message>
    <message>
        <source>Least recently used: evicts the expert whose last use is oldest</source>
        <translation>最近最少使用：驱逐最久未使用的专家</translation>
    </message>
    <message>
        <source>Least frequently used: evicts the expert used least often, counts aging</source>
        <translation>最不经常使用：驱逐使用次数最少的专家，计数会衰减</translation>
    </message>
    <message>
        <source>First in, first out: evicts the expert loaded longest ago</source>
        <translation>先进先出：驱逐最早载入的专家</translation>
    </message>
    <message>
        <source>Evicts a uniformly random resident expert</source>
        <translation>均匀随机驱逐一个常驻专家</translation>
    </message>
    <message>
        <source>Adaptive replacement cache: balances a recency and a frequency list</source>
        <translation>自适应替换缓存：在最近使用列表与频率列表之间平衡</translation>
    </message>
    <message>
        <source>One pool: first evicts experts of layers that already ran for the current token (least recently used among them), else the least recently used</source>
        <translation>单一池：先驱逐当前词元已运行过的层的专家（其中最久未使用者），否则驱逐最久未使用的专家</translation>
    </message>
    <message>
        <source>One pool: least recently used, but never evicts experts of the next 3 layers</source>
        <translation>单一池：最近最少使用，但从不驱逐接下来 3 层的专家</translation>
    </message>
    <message>
        <source>One pool: pins whole layers from the first, as many as fit; the rest load on demand</source>
        <translation>单一池：从第一层起固定整层，能放多少放多少；其余按需加载</translation>
    </message>
    <message>
        <source>One pool: pins whole layers from the last, as many as fit; the rest load on demand</source>
        <translation>单一池：从最后一层起固定整层，能放多少放多少；其余按需加载</translation>
    </message>
    <message>
        <source>Nothing cached: every use loads the expert and drops it</source>
        <translation>不缓存：每次使用都加载专家并随即丢弃</translation>
    </message>
    <message>
        <source>%1. Global: one pool for all layers</source>
        <translation>%1。全局：所有层共用一个池</translation>
    </message>
    <message>
        <source>No emulated link: loads take no modelled time</source>
        <translation>无模拟链路：加载不计建模时间</translation>
    </message>
    <message>
        <source>%1/s, %2 latency per load</source>
        <translation>%1/s，每次加载延迟 %2</translation>
    </message>
    <message>
        <source>At most the context, %1 tokens, less the prompt; &quot;until the end&quot; stops at the end of generation or a full context</source>
        <translation>最多为上下文长度 %1 个词元减去提示词；“直到结束”会在生成结束或上下文占满时停止</translation>
    </message>
</context>
<context>
    <name>moescope::views::SuitabilityModel</name>
    <message>
        <source>m = %1 tokens</source>
        <translation>m = %1 个词元</translation>
    </message>
    <message>
        <source>LRU</source>
        <translation>LRU</translation>
    </message>
    <message>
        <source>OPT (demand MIN, bound)</source>
        <translation>OPT（按需 MIN，界限）</translation>
    </message>
    <message>
        <source>%1 %</source>
        <translation>%1 %</translation>
    </message>
    <message>
        <source>Window / policy</source>
        <translation>窗口 / 策略</translation>
    </message>
    <message>
        <source>SRP(m)</source>
        <translation>SRP(m)</translation>
    </message>
    <message>
        <source>Hit rate, k: one pool of %1 slots</source>
        <translation>命中率，k：共享池 %1 个槽位</translation>
    </message>
    <message>
        <source>Hit rate, 2k: one pool of %1 slots</source>
        <translation>命中率，2k：共享池 %1 个槽位</translation>
    </message>
</context>
<context>
    <name>moescope::views::SuitabilityPanel</name>
    <message>
        <source>%1 %</source>
        <translation>%1 %</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <source>given</source>
        <translation>指定</translation>
    </message>
    <message>
        <source>measured</source>
        <translation>实测</translation>
    </message>
    <message>
        <source>assumed: the run has no measured compute</source>
        <translation>假定：本次运行没有实测计算时间</translation>
    </message>
    <message>
        <source>Well suited on %1: loading every routed expert takes no longer than computing, even without a cache.</source>
        <translation>在 %1 上非常适合：即使没有缓存，加载每个被路由的专家也不比计算慢。</translation>
    </message>
    <message>
        <source>Well suited on %1: with %2 slots per layer (%3k) LRU reaches %4 hits, above the %5 break-even.</source>
        <translation>在 %1 上非常适合：每层 %2 个槽位（%3k）时 LRU 命中率达到 %4，高于 %5 的盈亏平衡点。</translation>
    </message>
    <message>
        <source>Suited only with a better policy or prefetcher on %1: at 2k LRU reaches %2 hits, below the %3 break-even; OPT (demand MIN) reaches %4.</source>
        <translation>在 %1 上只有配合更好的策略或预取器才适合：2k 时 LRU 命中率为 %2，低于 %3 的盈亏平衡点；OPT（按需 MIN）可达 %4。</translation>
    </message>
    <message>
        <source>Poorly suited on %1: at 2k even OPT (demand MIN) stays below the %2 break-even; LRU needs %3 of %4 slots per layer.</source>
        <translation>在 %1 上不太适合：2k 时即使 OPT（按需 MIN）也低于 %2 的盈亏平衡点；LRU 每层需要 %4 个槽位中的 %3 个。</translation>
    </message>
    <message>
        <source>Unsuited on %1: only keeping (nearly) every expert resident reaches the %2 break-even.</source>
        <translation>在 %1 上不适合：只有让（几乎）所有专家常驻才能达到 %2 的盈亏平衡点。</translation>
    </message>
    <message>
        <source>Suitability</source>
        <translation>适用性</translation>
    </message>
    <message>
        <source>No suitability analysis yet: generate text or open a trace.</source>
        <translation>尚无适用性分析：请生成文本或打开一个跟踪文件。</translation>
    </message>
    <message>
        <source>Break-even hit rate on %1: h* = 1 - C / L = %2, with C = %3 of compute per token (%4) and L = %5 to load all its routed experts.</source>
        <translation>%1 上的盈亏平衡命中率：h* = 1 - C / L = %2，其中 C = 每个词元 %3 的计算时间（%4），L = 加载其全部被路由专家需要的 %5。</translation>
    </message>
    <message>
        <source>Smallest cache reaching it: LRU %1, OPT %2 (of %3 experts per layer).</source>
        <translation>达到它的最小缓存：LRU %1，OPT %2（每层共 %3 个专家）。</translation>
    </message>
    <message>
        <source>never</source>
        <translation>永不</translation>
    </message>
    <message>
        <source>SRP(m) (model level, Liang et al. 2025): best F1 of predicting, for every segment of m tokens, the experts it routes to at least j times (floor 2k/(n+k): %1). SCH(m): the cache that evicts the expert least used in the segment [t, t+m); the table's hit rates use one pool of k (2k) slots per layer in total, and OPT (demand MIN) bounds LRU and SCH there. %2 tokens, replayed one by one.</source>
        <translation>SRP(m)（模型级，Liang 等 2025）：对每个 m 个词元的片段，预测其路由至少 j 次的专家时的最佳 F1（下限 2k/(n+k)：%1）。SCH(m)：驱逐在片段 [t, t+m) 中使用最少的专家的缓存；表中命中率使用总计每层 k（2k）个槽位的共享池，OPT（按需 MIN）在此为 LRU 和 SCH 的上界。共 %2 个词元，逐个重放。</translation>
    </message>
</context>
<context>
    <name>moescope::views::TextPanel</name>
    <message>
        <source>Colour by</source>
        <translation>着色依据</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Cache misses</source>
        <translation>缓存未命中</translation>
    </message>
    <message>
        <source>Stall time</source>
        <translation>等待时间</translation>
    </message>
    <message>
        <source>Expert at layer</source>
        <translation>某层的专家</translation>
    </message>
    <message>
        <source>Router entropy</source>
        <translation>路由熵</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>The MoE layer for &quot;Expert at layer&quot; and the token × expert heatmap</source>
        <translation>用于“某层的专家”和“词元 × 专家”热图的 MoE 层</translation>
    </message>
    <message>
        <source>Missed selections</source>
        <translation>未命中的选择</translation>
    </message>
    <message>
        <source>Stall (measured)</source>
        <translation>等待（实测）</translation>
    </message>
    <message>
        <source>Stall (modelled)</source>
        <translation>等待（模拟）</translation>
    </message>
    <message>
        <source>Top-1 expert</source>
        <translation>首选专家</translation>
    </message>
    <message>
        <source>0 bits</source>
        <translation>0 比特</translation>
    </message>
    <message>
        <source>%1 bits</source>
        <translation>%1 比特</translation>
    </message>
    <message>
        <source>Top-k weight entropy</source>
        <translation>Top-k 权重熵</translation>
    </message>
    <message>
        <source>This run has no router logits (recorded without them): the entropy is of the selected experts&apos; mixing weights normalised to 1, at most log2(k) bits. It shows how evenly a token split itself among its chosen experts.</source>
        <translation>此运行没有路由器 logits（记录时未保存）：熵取自所选专家归一化为 1 的混合权重，最多 log2(k) 比特。它表示词元在所选专家之间分配得有多均匀。</translation>
    </message>
    <message>
        <source>Entropy of the router&apos;s distribution over all experts, averaged over the layers: 0 bits when one expert takes everything, log2(experts) when the router cannot tell them apart.</source>
        <translation>路由器在所有专家上分布的熵，按层平均：一个专家承担全部时为 0 比特，路由器无法区分专家时为 log2(专家数)。</translation>
    </message>
    <message>
        <source>Click a token: its routing stays here, to select and copy</source>
        <translation>点击一个词元：其路由信息会固定显示在此，可选择和复制</translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenExpertModel</name>
    <message>
        <source>Token %1 «%2», layer %3, expert %4</source>
        <translation>词元 %1「%2」，第 %3 层，专家 %4</translation>
    </message>
    <message>
        <source>Not selected</source>
        <translation>未被选中</translation>
    </message>
    <message>
        <source>Rank %1, weight %2</source>
        <translation>排名 %1，权重 %2</translation>
    </message>
    <message>
        <source>Cache: miss</source>
        <translation>缓存：未命中</translation>
    </message>
    <message>
        <source>Cache: hit</source>
        <translation>缓存：命中</translation>
    </message>
    <message>
        <source>Cache: hit on a prefetched expert</source>
        <translation>缓存：命中预取的专家</translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenExpertPanel</name>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Fit the grid to the view (0); zoom with Ctrl+wheel or +/-, drag to pan</source>
        <translation>使网格适应视图 (0)；用 Ctrl+滚轮或 +/- 缩放，拖动以平移</translation>
    </message>
    <message>
        <source>Mixing weight</source>
        <translation>混合权重</translation>
    </message>
    <message>
        <source>&lt;span style=&apos;color:#dc2828&apos;&gt;◥&lt;/span&gt; cache miss</source>
        <translation>&lt;span style=&apos;color:#dc2828&apos;&gt;◥&lt;/span&gt; 缓存未命中</translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenTextView</name>
    <message>
        <source>Generated tokens appear here, coloured by the chosen measure. Hover a token for its routing path, click it to select it everywhere.</source>
        <translation>生成的词元将显示在这里，并按所选指标着色。将鼠标悬停在词元上可查看其路由路径，单击可在所有视图中选中它。</translation>
    </message>
    <message>
        <source>Token %1</source>
        <translation>词元 %1</translation>
    </message>
    <message>
        <source>(id %1, %2)</source>
        <translation>（ID %1，%2）</translation>
    </message>
    <message>
        <source>generated</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Not routed yet: a token is routed when it is fed back.</source>
        <translation>尚未路由：词元在被回馈给模型时才会路由。</translation>
    </message>
    <message>
        <source>prefill</source>
        <translation>预填充</translation>
    </message>
    <message>
        <source>decode</source>
        <translation>解码</translation>
    </message>
    <message>
        <source>stall %1</source>
        <translation>等待 %1</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Experts (weight)</source>
        <translation>专家（权重）</translation>
    </message>
    <message>
        <source>Entropy</source>
        <translation>熵</translation>
    </message>
    <message>
        <source>Cache (%1)</source>
        <translation>缓存（%1）</translation>
    </message>
    <message>
        <source>hit</source>
        <translation>命中</translation>
    </message>
    <message>
        <source>prefetched</source>
        <translation>已预取</translation>
    </message>
    <message>
        <source>miss</source>
        <translation>未命中</translation>
    </message>
    <message>
        <source>beginning of sequence (BOS)</source>
        <translation>序列开始（BOS）</translation>
    </message>
    <message>
        <source>end of sequence (EOS): generation ends here</source>
        <translation>序列结束（EOS）：生成在此结束</translation>
    </message>
    <message>
        <source>end of generation (EOG, e.g. end of turn): generation ends here</source>
        <translation>生成结束（EOG，例如轮次结束）：生成在此结束</translation>
    </message>
    <message>
        <source>the unknown-token placeholder</source>
        <translation>未知词元占位符</translation>
    </message>
    <message>
        <source>a control token</source>
        <translation>控制词元</translation>
    </message>
    <message>
        <source>Special token, %1. It makes no text; the grey badge shows its name.</source>
        <translation>特殊词元，%1。它不产生文本；灰色标记显示其名称。</translation>
    </message>
    <message>
        <source>Entropy (top-k)</source>
        <translation>熵（Top-k）</translation>
    </message>
</context>
<context>
    <name>moescope::views::TracePanel</name>
    <message>
        <source>Could not open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
    <message>
        <source>%1: showing run %2</source>
        <translation>%1：正在显示运行 %2</translation>
    </message>
    <message>
        <source>Open a trace</source>
        <translation>打开轨迹</translation>
    </message>
    <message>
        <source>MoEScope traces (*.sqlite);;All files (*)</source>
        <translation>MoEScope 轨迹 (*.sqlite);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Reading %1 …</source>
        <translation>正在读取 %1 …</translation>
    </message>
    <message>
        <source>%1 holds no runs</source>
        <translation>%1 中没有运行记录</translation>
    </message>
    <message>
        <source>Comparing runs %1 and %2 …</source>
        <translation>正在对比运行 %1 和 %2 …</translation>
    </message>
    <message>
        <source>Cannot compare: %1</source>
        <translation>无法对比：%1</translation>
    </message>
    <message>
        <source>Runs %1 and %2 produced the same tokens.</source>
        <translation>运行 %1 和 %2 生成了相同的词元。</translation>
    </message>
    <message>
        <source>Runs %1 and %2 first differ at token %3.</source>
        <translation>运行 %1 和 %2 在词元 %3 处首次不同。</translation>
    </message>
    <message>
        <source>Their routing agrees wherever both were routed.</source>
        <translation>在两者都已路由的位置，它们的路由完全一致。</translation>
    </message>
    <message>
        <source>Routing first differs at token %1.</source>
        <translation>路由在词元 %1 处首次不同。</translation>
    </message>
    <message>
        <source>Open trace…</source>
        <translation>打开轨迹…</translation>
    </message>
    <message>
        <source>Open a trace recorded with `moescope record` or by this window</source>
        <translation>打开由 `moescope record` 或本窗口记录的轨迹</translation>
    </message>
    <message>
        <source>No trace open</source>
        <translation>未打开轨迹</translation>
    </message>
    <message>
        <source>Show run</source>
        <translation>显示运行</translation>
    </message>
    <message>
        <source>Show the selected run in every view (or double-click it)</source>
        <translation>在所有视图中显示所选运行（或双击它）</translation>
    </message>
    <message>
        <source>Compare two runs</source>
        <translation>对比两次运行</translation>
    </message>
    <message>
        <source>Select two runs to align them token by token</source>
        <translation>选择两次运行，按词元逐一对齐</translation>
    </message>
    <message>
        <source>Select two runs and compare them.</source>
        <translation>选择两次运行并进行对比。</translation>
    </message>
    <message>
        <source>Recorded with %1, not the loaded model: the views show the trace as recorded; Generate runs the loaded model.</source>
        <translation>由 %1 录制，而非当前加载的模型：各视图按录制内容显示该追踪；“生成”使用当前加载的模型。</translation>
    </message>
    <message>
        <source>it holds no runs</source>
        <translation>其中没有运行</translation>
    </message>
</context>
<context>
    <name>moescope::views::ViewExport</name>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>Copies the view&apos;s table as text and its picture</source>
        <translation>复制视图的表格文本及其图像</translation>
    </message>
    <message>
        <source>Save &amp;image…</source>
        <translation>保存图像(&amp;I)…</translation>
    </message>
    <message>
        <source>Export C&amp;SV…</source>
        <translation>导出 CSV(&amp;S)…</translation>
    </message>
    <message>
        <source>Save image</source>
        <translation>保存图像</translation>
    </message>
    <message>
        <source>PNG image (*.png);;SVG image (*.svg)</source>
        <translation>PNG 图像 (*.png);;SVG 图像 (*.svg)</translation>
    </message>
    <message>
        <source>Export CSV</source>
        <translation>导出 CSV</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
</context>
<context>
    <name>moescope::views::DeviceGridView</name>
    <message>
        <source>%1, %2: %3</source>
        <translation>%1, %2: %3</translation>
    </message>
</context>
<context>
    <name>moescope::views::DevicesPanel</name>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>节点</translation>
    </message>
    <message>
        <source>Redundant experts</source>
        <translation>冗余专家</translation>
    </message>
    <message>
        <source>placement</source>
        <translation>放置</translation>
    </message>
    <message>
        <source>balancedness</source>
        <translation>均衡度</translation>
    </message>
    <message>
        <source>step balancedness</source>
        <translation>每步均衡度</translation>
    </message>
    <message>
        <source>straggler</source>
        <translation>拖尾系数</translation>
    </message>
    <message>
        <source>same-device pairs</source>
        <translation>同设备对</translation>
    </message>
    <message>
        <source>intra-node MB</source>
        <translation>节点内 MB</translation>
    </message>
    <message>
        <source>inter-node MB</source>
        <translation>节点间 MB</translation>
    </message>
    <message>
        <source>modelled MoE time ms</source>
        <translation>建模 MoE 时间 ms</translation>
    </message>
    <message>
        <source>No placement yet: generate text or open a trace.</source>
        <translation>尚无放置：请生成文本或打开跟踪文件。</translation>
    </message>
    <message>
        <source>No placement: %1</source>
        <translation>无放置：%1</translation>
    </message>
    <message>
        <source>D%1</source>
        <translation>D%1</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>L%1</translation>
    </message>
    <message>
        <source>%1: routed pairs per layer and device</source>
        <translation>%1：每层每设备的路由对</translation>
    </message>
    <message>
        <source>all-to-all: token messages from home (row) to device (column)</source>
        <translation>all-to-all：从本地设备（行）到设备（列）的 token 消息</translation>
    </message>
</context>
<context>
    <name>moescope::gui::MainWindow</name>
    <message>
        <source>Workload finished: %1 requests</source>
        <translation>工作负载完成：%1 个请求</translation>
    </message>
    <message>
        <source>The workload failed: %1</source>
        <translation>工作负载失败：%1</translation>
    </message>
    <message>
        <source>Workload</source>
        <translation>工作负载</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步骤</translation>
    </message>
</context>
<context>
    <name>moescope::views::BatchController</name>
    <message>
        <source>no model is loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>the engine is busy; stop the running generation first</source>
        <translation>引擎忙；请先停止正在进行的生成</translation>
    </message>
</context>
<context>
    <name>moescope::views::RequestListModel</name>
    <message>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>finished (%1)</source>
        <translation>已完成（%1）</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>%1 + %2</source>
        <translation>%1 + %2</translation>
    </message>
    <message>
        <source>Prompt tokens + generated tokens</source>
        <translation>提示词元 + 生成词元</translation>
    </message>
    <message>
        <source>Time to first token: from the request&apos;s arrival to its first sampled token</source>
        <translation>首词元时间：从请求到达到其第一个采样词元</translation>
    </message>
    <message>
        <source>Time per output token after the first</source>
        <translation>第一个之后每个输出词元的时间</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>TTFT</source>
        <translation>TTFT</translation>
    </message>
    <message>
        <source>TPOT</source>
        <translation>TPOT</translation>
    </message>
</context>
<context>
    <name>moescope::views::SchedulerCompareModel</name>
    <message>
        <source>(not recorded)</source>
        <translation>（未记录）</translation>
    </message>
    <message>
        <source>Scheduler</source>
        <translation>调度器</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步骤</translation>
    </message>
    <message>
        <source>Distinct experts per step-layer</source>
        <translation>每步每层的不同专家数</translation>
    </message>
    <message>
        <source>Straggler (mean)</source>
        <translation>掉队因子（平均）</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>传输字节</translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>p95 TTFT (ms)</source>
        <translation>p95 首词元时间 (ms)</translation>
    </message>
</context>
<context>
    <name>moescope::views::StepLayerModel</name>
    <message>
        <source>Step %1, MoE layer %2: %3 of %4 experts ran, %5 token-expert pairs, the busiest expert got %6 tokens (straggler %7)</source>
        <translation>步骤 %1，MoE 层 %2：%4 个专家中运行了 %3 个，%5 个词元-专家对，最忙的专家获得 %6 个词元（掉队因子 %7）</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>L%1</translation>
    </message>
</context>
<context>
    <name>moescope::views::StepTableModel</name>
    <message>
        <source>Distinct experts the step ran, mean over the MoE layers</source>
        <translation>该步骤运行的不同专家数，对 MoE 层取平均</translation>
    </message>
    <message>
        <source>Straggler factor: the most tokens one expert got over the mean tokens per expert, the worst MoE layer of the step</source>
        <translation>掉队因子：单个专家获得的最多词元数除以每个专家的平均词元数，取该步骤最差的 MoE 层</translation>
    </message>
    <message>
        <source>Bytes the expert cache loaded for the step (— without offloading)</source>
        <translation>专家缓存为该步骤加载的字节（无卸载时为 —）</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步骤</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>Distinct experts</source>
        <translation>不同专家数</translation>
    </message>
    <message>
        <source>Straggler</source>
        <translation>掉队因子</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>传输字节</translation>
    </message>
    <message>
        <source>Time (ms)</source>
        <translation>时间 (ms)</translation>
    </message>
</context>
<context>
    <name>moescope::views::StepTimelinePanel</name>
    <message>
        <source>Cells</source>
        <translation>单元格</translation>
    </message>
    <message>
        <source>distinct experts per step and layer</source>
        <translation>每步每层的不同专家数</translation>
    </message>
    <message>
        <source>straggler factor (max / mean tokens per expert)</source>
        <translation>掉队因子（每个专家的最大/平均词元数）</translation>
    </message>
    <message>
        <source>Run a workload (Workload panel) or open a batched trace to see its steps.</source>
        <translation>运行一个工作负载（工作负载面板）或打开一个批处理跟踪以查看其步骤。</translation>
    </message>
    <message>
        <source>The same workload under each scheduler, run one after the other with the same settings: scheduling is exact, so every request got the same text; the steps differ.</source>
        <translation>同一工作负载在每个调度器下以相同设置依次运行：调度是精确的，因此每个请求得到相同的文本；步骤不同。</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步骤</translation>
    </message>
    <message>
        <source>Steps — %1</source>
        <translation>步骤 — %1</translation>
    </message>
</context>
<context>
    <name>moescope::views::WorkloadPanel</name>
    <message>
        <source>Workload finished.</source>
        <translation>工作负载完成。</translation>
    </message>
    <message>
        <source>The workload failed: %1</source>
        <translation>工作负载失败：%1</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <source>Prompts from %1: %2</source>
        <translation>来自 %1 的提示：%2</translation>
    </message>
    <message>
        <source>Load a workload</source>
        <translation>加载工作负载</translation>
    </message>
    <message>
        <source>Workloads (*.txt *.jsonl);;All files (*)</source>
        <translation>工作负载 (*.txt *.jsonl);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Running the workload …</source>
        <translation>正在运行工作负载 …</translation>
    </message>
    <message>
        <source>(scheduler not recorded)</source>
        <translation>（未记录调度器）</translation>
    </message>
    <message>
        <source>Prompts</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>One prompt per line</source>
        <translation>每行一个提示</translation>
    </message>
    <message>
        <source>Load file…</source>
        <translation>加载文件…</translation>
    </message>
    <message>
        <source>A text file (one prompt per line) or JSONL ({&quot;prompt&quot;: …} per line), as moescope batch --prompts reads it</source>
        <translation>文本文件（每行一个提示）或 JSONL（每行 {&quot;prompt&quot;: …}），与 moescope batch --prompts 的读取方式相同</translation>
    </message>
    <message>
        <source>Max batch</source>
        <translation>最大批量</translation>
    </message>
    <message>
        <source>Requests per step (forward call)</source>
        <translation>每步（前向调用）的请求数</translation>
    </message>
    <message>
        <source>Arrival</source>
        <translation>到达</translation>
    </message>
    <message>
        <source>all at once</source>
        <translation>同时到达</translation>
    </message>
    <message>
        <source>Poisson</source>
        <translation>泊松</translation>
    </message>
    <message>
        <source> /s</source>
        <translation> /秒</translation>
    </message>
    <message>
        <source>Requests per second</source>
        <translation>每秒请求数</translation>
    </message>
    <message>
        <source>Seed of the Poisson arrivals</source>
        <translation>泊松到达的随机种子</translation>
    </message>
    <message>
        <source>Scheduler</source>
        <translation>调度器</translation>
    </message>
    <message>
        <source>FIFO</source>
        <translation>FIFO</translation>
    </message>
    <message>
        <source>expert-aware (ExpertFlow)</source>
        <translation>专家感知（ExpertFlow）</translation>
    </message>
    <message>
        <source>FIFO and expert-aware, side by side</source>
        <translation>FIFO 与专家感知并排</translation>
    </message>
    <message>
        <source>Both: the same workload runs twice, one run after the other; scheduling is exact, so every request gets the same text</source>
        <translation>两者：同一工作负载依次运行两次；调度是精确的，因此每个请求得到相同的文本</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大新词元数</translation>
    </message>
    <message>
        <source>Run workload</source>
        <translation>运行工作负载</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Filter prompts</source>
        <translation>筛选提示</translation>
    </message>
    <message>
        <source>all requests</source>
        <translation>所有请求</translation>
    </message>
    <message>
        <source>unfinished</source>
        <translation>未完成</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Select a request to see its prompt and generated text</source>
        <translation>选择一个请求以查看其提示和生成的文本</translation>
    </message>
</context>
</TS>

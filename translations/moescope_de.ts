<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>QObject</name>
    <message>
        <source>%1: cannot draw the view</source>
        <translation>%1: Die Ansicht kann nicht gezeichnet werden</translation>
    </message>
</context>
<context>
    <name>moescope::gui::MainWindow</name>
    <message>
        <source>Devices</source>
        <translation>Geräte</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>%1 konnte nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>Der Lauf ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Model ready: %1</source>
        <translation>Modell bereit: %1</translation>
    </message>
    <message>
        <source>MoEScope — mixture-of-experts profiler</source>
        <translation>MoEScope — Profiler für Mixture-of-Experts-Modelle</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Open model…</source>
        <translation>Modell ö&amp;ffnen…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>Aus&amp;führen</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>&amp;Generieren</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>&amp;Stoppen</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>&amp;Farbschema</translation>
    </message>
    <message>
        <source>System</source>
        <translation>System</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Hell</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Dunkel</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Sprache</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About MoEScope</source>
        <translation>Ü&amp;ber MoEScope</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>No default model: %1</source>
        <translation>Kein Standardmodell: %1</translation>
    </message>
    <message>
        <source>About MoEScope</source>
        <translation>Über MoEScope</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;A profiler for mixture-of-experts inference: it runs MoE models on its own CPU engine, offloads their experts to a bounded cache, and shows every token&apos;s routing, cache hits and stalls live.&lt;/p&gt;&lt;p&gt;Built with Qt %2. Licensed under the Apache License 2.0.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;Ein Profiler für die Inferenz von Mixture-of-Experts-Modellen: Er führt MoE-Modelle auf einer eigenen CPU-Engine aus, lagert ihre Experten in einen begrenzten Cache aus und zeigt Routing, Cache-Treffer und Wartezeiten jedes Tokens live.&lt;/p&gt;&lt;p&gt;Erstellt mit Qt %2. Lizenziert unter der Apache License 2.0.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Layer × expert</source>
        <translation>Schicht × Experte</translation>
    </message>
    <message>
        <source>Token × expert</source>
        <translation>Token × Experte</translation>
    </message>
    <message>
        <source>Expert affinity</source>
        <translation>Experten-Affinität</translation>
    </message>
    <message>
        <source>Policy comparison</source>
        <translation>Strategievergleich</translation>
    </message>
    <message>
        <source>Hit rate vs capacity</source>
        <translation>Trefferquote nach Kapazität</translation>
    </message>
    <message>
        <source>Traces</source>
        <translation>Traces</translation>
    </message>
    <message>
        <source>Open &amp;trace…</source>
        <translation>&amp;Trace öffnen…</translation>
    </message>
    <message>
        <source>length limit reached</source>
        <translation>Längengrenze erreicht</translation>
    </message>
    <message>
        <source>end of generation</source>
        <translation>Ende der Generierung</translation>
    </message>
    <message>
        <source>stop string</source>
        <translation>Stoppzeichenfolge</translation>
    </message>
    <message>
        <source>context full</source>
        <translation>Kontext voll</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>gestoppt</translation>
    </message>
    <message>
        <source>Run finished: %1 tokens generated in %2 s (%3)</source>
        <translation>Lauf beendet: %1 Tokens in %2 s generiert (%3)</translation>
    </message>
    <message>
        <source>Showing run %1 of %2</source>
        <translation>Lauf %1 aus %2 wird angezeigt</translation>
    </message>
    <message>
        <source>Suitability</source>
        <translation>Eignung</translation>
    </message>
    <message>
        <source>Reading %1 …</source>
        <translation>%1 wird gelesen …</translation>
    </message>
    <message>
        <source>recorded with %1, not the loaded model</source>
        <translation>aufgezeichnet mit %1, nicht mit dem geladenen Modell</translation>
    </message>
    <message>
        <source>%1, run %2</source>
        <translation>%1, Lauf %2</translation>
    </message>
    <message>
        <source>Open a trace</source>
        <translation>Trace öffnen</translation>
    </message>
    <message>
        <source>MoEScope traces (*.sqlite);;All files (*)</source>
        <translation>MoEScope-Traces (*.sqlite);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Nothing to export: open a trace, or record the run (Settings → Recording) and open it</source>
        <translation>Nichts zu exportieren: Öffnen Sie einen Trace oder zeichnen Sie den Lauf auf (Einstellungen → Aufzeichnung) und öffnen Sie ihn</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>%1 exportiert</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>Export fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Exportieren</translation>
    </message>
    <message>
        <source>Export writes the run on show from its trace. Open a trace (File → Open trace), or record runs (Settings → Recording) and open the trace.</source>
        <translation>Der Export schreibt den angezeigten Lauf aus seinem Trace. Öffnen Sie einen Trace (Datei → Trace öffnen) oder zeichnen Sie Läufe auf (Einstellungen → Aufzeichnung) und öffnen Sie den Trace.</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
    </message>
    <message>
        <source>&amp;Export</source>
        <translation>E&amp;xportieren</translation>
    </message>
    <message>
        <source>CSV: %1 table…</source>
        <translation>CSV: Tabelle %1…</translation>
    </message>
    <message>
        <source>JSON (everything the run holds)…</source>
        <translation>JSON (alles, was der Lauf enthält)…</translation>
    </message>
    <message>
        <source>Perfetto / Chrome trace…</source>
        <translation>Perfetto-/Chrome-Trace…</translation>
    </message>
    <message>
        <source>HTML report…</source>
        <translation>HTML-Bericht…</translation>
    </message>
    <message>
        <source>PDF report…</source>
        <translation>PDF-Bericht…</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>Layout &amp;zurücksetzen</translation>
    </message>
</context>
<context>
    <name>moescope::views::AffinityGraphView</name>
    <message>
        <source>The affinity graph appears once tokens have been routed.</source>
        <translation>Der Affinitätsgraph erscheint, sobald Tokens geroutet wurden.</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>S%1</translation>
    </message>
    <message>
        <source>Layer %1, expert %2: chosen %3 times</source>
        <translation>Schicht %1, Experte %2: %3-mal gewählt</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Next layer: %1</source>
        <translation>Nächste Schicht: %1</translation>
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
        <translation>Kanten ab</translation>
    </message>
    <message>
        <source>Draw an edge e → e′ when P(e′ at layer l+1 | e at layer l) is at least this</source>
        <translation>Eine Kante e → e′ zeichnen, wenn P(e′ in Schicht l+1 | e in Schicht l) mindestens diesen Wert hat</translation>
    </message>
    <message>
        <source>Co-activation within a layer</source>
        <translation>Gemeinsame Aktivierung in einer Schicht</translation>
    </message>
    <message>
        <source>Arcs between experts that one token selects together</source>
        <translation>Bögen zwischen Experten, die ein Token gemeinsam wählt</translation>
    </message>
</context>
<context>
    <name>moescope::views::CapacityCurvesPanel</name>
    <message>
        <source>Layer %1</source>
        <translation>Schicht %1</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>Schichten</translation>
    </message>
    <message>
        <source>All layers</source>
        <translation>Alle Schichten</translation>
    </message>
    <message>
        <source>Hit rate against cache capacity (one pass, every capacity)</source>
        <translation>Trefferquote nach Cache-Kapazität (ein Durchlauf, jede Kapazität)</translation>
    </message>
    <message>
        <source>Capacity (% of the experts)</source>
        <translation>Kapazität (% der Experten)</translation>
    </message>
    <message>
        <source>Hit rate</source>
        <translation>Trefferquote</translation>
    </message>
    <message>
        <source>LRU, per layer</source>
        <translation>LRU, je Schicht</translation>
    </message>
    <message>
        <source>OPT, per layer</source>
        <translation>OPT, je Schicht</translation>
    </message>
    <message>
        <source>LRU, one pool</source>
        <translation>LRU, ein gemeinsamer Pool</translation>
    </message>
    <message>
        <source>OPT, one pool</source>
        <translation>OPT, ein gemeinsamer Pool</translation>
    </message>
    <message>
        <source>budget (%1 experts)</source>
        <translation>Budget (%1 Experten)</translation>
    </message>
</context>
<context>
    <name>moescope::views::HeatmapView</name>
    <message>
        <source>No data yet: generate, or open a trace</source>
        <translation>Noch keine Daten: generieren oder einen Trace öffnen</translation>
    </message>
</context>
<context>
    <name>moescope::views::LayerExpertModel</name>
    <message>
        <source>Layer %1, expert %2</source>
        <translation>Schicht %1, Experte %2</translation>
    </message>
    <message>
        <source>Activations: %1 of %2 tokens</source>
        <translation>Aktivierungen: %1 von %2 Tokens</translation>
    </message>
    <message>
        <source>Cache (%1): %2 hits of %3 accesses</source>
        <translation>Cache (%1): %2 Treffer bei %3 Zugriffen</translation>
    </message>
    <message>
        <source>Resident for %1 of %2 tokens (%3)</source>
        <translation>Im Cache während %1 von %2 Tokens (%3)</translation>
    </message>
    <message>
        <source>L%1 (block %2)</source>
        <translation>S%1 (Block %2)</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>S%1</translation>
    </message>
</context>
<context>
    <name>moescope::views::LayerExpertPanel</name>
    <message>
        <source>Show</source>
        <translation>Zeigen</translation>
    </message>
    <message>
        <source>Activations</source>
        <translation>Aktivierungen</translation>
    </message>
    <message>
        <source>Hit rate</source>
        <translation>Trefferquote</translation>
    </message>
    <message>
        <source>Residency</source>
        <translation>Verweildauer</translation>
    </message>
    <message>
        <source>Activations: how often the router chose the expert. Hit rate: share of its accesses the chosen policy served from the cache. Residency: share of the run it spent in the cache.</source>
        <translation>Aktivierungen: wie oft der Router den Experten gewählt hat. Trefferquote: Anteil seiner Zugriffe, die die gewählte Strategie aus dem Cache bedient hat. Verweildauer: Anteil des Laufs, den er im Cache verbracht hat.</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Einpassen</translation>
    </message>
    <message>
        <source>Fit the grid to the view (0); zoom with Ctrl+wheel or +/-, drag to pan</source>
        <translation>Raster an die Ansicht anpassen (0); zoomen mit Strg+Mausrad oder +/-, verschieben durch Ziehen</translation>
    </message>
    <message>
        <source>Time resident</source>
        <translation>Zeit im Cache</translation>
    </message>
</context>
<context>
    <name>moescope::views::LineChart</name>
    <message>
        <source>Token %1</source>
        <translation>Token %1</translation>
    </message>
    <message>
        <source>series</source>
        <translation>Reihe</translation>
    </message>
</context>
<context>
    <name>moescope::views::ModelPanel</name>
    <message>
        <source>Loading %1 …</source>
        <translation>%1 wird geladen …</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>%1 konnte nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation>GGUF-Modell öffnen</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF-Modelle (*.gguf);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Open model…</source>
        <translation>Modell öffnen…</translation>
    </message>
    <message>
        <source>Open a GGUF model file (you can also drop one on the window)</source>
        <translation>Eine GGUF-Modelldatei öffnen (Sie können sie auch auf das Fenster ziehen)</translation>
    </message>
    <message>
        <source>Recent models</source>
        <translation>Zuletzt geöffnete Modelle</translation>
    </message>
    <message>
        <source>Property</source>
        <translation>Eigenschaft</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>No model loaded. Open a GGUF file or drop one here.</source>
        <translation>Kein Modell geladen. Öffnen Sie eine GGUF-Datei oder ziehen Sie sie hierher.</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>Architektur</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>Schichten</translation>
    </message>
    <message>
        <source>Embedding width</source>
        <translation>Einbettungsbreite</translation>
    </message>
    <message>
        <source>Attention heads</source>
        <translation>Attention-Köpfe</translation>
    </message>
    <message>
        <source>%1 (KV %2)</source>
        <translation>%1 (KV %2)</translation>
    </message>
    <message>
        <source>Routed experts</source>
        <translation>Geroutete Experten</translation>
    </message>
    <message>
        <source>%1 per layer, top-%2</source>
        <translation>%1 je Schicht, Top-%2</translation>
    </message>
    <message>
        <source>Shared experts</source>
        <translation>Gemeinsame Experten</translation>
    </message>
    <message>
        <source>MoE layers</source>
        <translation>MoE-Schichten</translation>
    </message>
    <message>
        <source>Dense layers</source>
        <translation>Dichte Schichten</translation>
    </message>
    <message>
        <source>Vocabulary</source>
        <translation>Vokabular</translation>
    </message>
    <message>
        <source>%1 tokens (%2)</source>
        <translation>%1 Tokens (%2)</translation>
    </message>
    <message>
        <source>Training context</source>
        <translation>Trainingskontext</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>%1 total, %2 active per token</source>
        <translation>%1 insgesamt, %2 aktiv je Token</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>Dateigröße</translation>
    </message>
    <message>
        <source>Expert weights</source>
        <translation>Expertengewichte</translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation>Schicht %1</translation>
    </message>
    <message>
        <source>%1 experts × %2</source>
        <translation>%1 Experten × %2</translation>
    </message>
    <message>
        <source>Tensor types</source>
        <translation>Tensortypen</translation>
    </message>
    <message>
        <source>tensors: %1, %2</source>
        <translation>Tensoren: %1, %2</translation>
    </message>
</context>
<context>
    <name>moescope::views::PolicyComparisonPanel</name>
    <message>
        <source>%1 (oracle without prefetch, not a bound)</source>
        <translation>%1 (Orakel ohne Vorabladen, keine Schranke)</translation>
    </message>
    <message>
        <source>Hit rate</source>
        <translation>Trefferquote</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>Übertragene Bytes</translation>
    </message>
    <message>
        <source>Stall</source>
        <translation>Wartezeit</translation>
    </message>
    <message>
        <source>Cumulative hit rate over the decode tokens</source>
        <translation>Kumulierte Trefferquote über die Decode-Tokens</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>Expert bytes loaded (demand and prefetch)</source>
        <translation>Geladene Expertenbytes (Bedarf und Vorabladen)</translation>
    </message>
    <message>
        <source>MiB</source>
        <translation>MiB</translation>
    </message>
    <message>
        <source>Modelled stall: time compute waited for loads</source>
        <translation>Modellierte Wartezeit: Zeit, die die Berechnung auf Ladevorgänge wartete</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>%1 (chosen)</source>
        <translation>%1 (gewählt)</translation>
    </message>
    <message>
        <source>%1 (bound)</source>
        <translation>%1 (Schranke)</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>Tabelle</translation>
    </message>
    <message>
        <source>Modelled stall: none without an emulated link (choose one in Settings → Link)</source>
        <translation>Modellierte Wartezeit: keine ohne emulierte Verbindung (eine wählen unter Einstellungen → Verbindung)</translation>
    </message>
</context>
<context>
    <name>moescope::views::PolicyTableModel</name>
    <message>
        <source>oracle reference (not a bound)</source>
        <translation>Orakel-Referenz (keine Schranke)</translation>
    </message>
    <message>
        <source>chosen</source>
        <translation>gewählt</translation>
    </message>
    <message>
        <source>compared (oracle)</source>
        <translation>verglichen (Orakel)</translation>
    </message>
    <message>
        <source>compared</source>
        <translation>verglichen</translation>
    </message>
    <message>
        <source>bound</source>
        <translation>Schranke</translation>
    </message>
    <message>
        <source>error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>Policy</source>
        <translation>Strategie</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>Rolle</translation>
    </message>
    <message>
        <source>Hit rate (decode)</source>
        <translation>Trefferquote (Decode)</translation>
    </message>
    <message>
        <source>Hit rate (all)</source>
        <translation>Trefferquote (gesamt)</translation>
    </message>
    <message>
        <source>Misses</source>
        <translation>Fehlzugriffe</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>Übertragene Bytes</translation>
    </message>
    <message>
        <source>Modelled stall</source>
        <translation>Modellierte Wartezeit</translation>
    </message>
    <message>
        <source>Prefetch precision</source>
        <translation>Präzision des Vorabladens</translation>
    </message>
    <message>
        <source>Prefetch recall</source>
        <translation>Trefferabdeckung des Vorabladens</translation>
    </message>
</context>
<context>
    <name>moescope::views::PromptPanel</name>
    <message>
        <source>Failed: %1</source>
        <translation>Fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Write a prompt, then Generate (Ctrl+Return)</source>
        <translation>Prompt eingeben, dann Generieren (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>Generieren</translation>
    </message>
    <message>
        <source>Generate from the prompt with the current settings (Ctrl+Return)</source>
        <translation>Aus dem Prompt mit den aktuellen Einstellungen generieren (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stoppen</translation>
    </message>
    <message>
        <source>Stop after the current token (Esc)</source>
        <translation>Nach dem aktuellen Token anhalten (Esc)</translation>
    </message>
    <message>
        <source>Open a model to start</source>
        <translation>Zum Starten ein Modell öffnen</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>Das Modell wird geladen…</translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation>Generiere…</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>Halte an…</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>Generated tokens: %1</source>
        <translation>Generierte Tokens: %1</translation>
    </message>
</context>
<context>
    <name>moescope::views::RunCompareModel</name>
    <message>
        <source>Position</source>
        <translation>Position</translation>
    </message>
    <message>
        <source>Token, run %1</source>
        <translation>Token, Lauf %1</translation>
    </message>
    <message>
        <source>Layers routed differently</source>
        <translation>Anders geroutete Schichten</translation>
    </message>
    <message>
        <source>Misses, run %1</source>
        <translation>Fehlzugriffe, Lauf %1</translation>
    </message>
</context>
<context>
    <name>moescope::views::RunListModel</name>
    <message>
        <source>complete</source>
        <translation>vollständig</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>unterbrochen</translation>
    </message>
    <message>
        <source>%1 (%2 prompt)</source>
        <translation>%1 (%2 Prompt)</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Lauf</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Policies</source>
        <translation>Strategien</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>Gestartet</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>Bezeichnung</translation>
    </message>
</context>
<context>
    <name>moescope::views::RunStatus</name>
    <message>
        <source>%1 tokens/s</source>
        <translation>%1 Tokens/s</translation>
    </message>
    <message>
        <source>Decode speed of the current run</source>
        <translation>Decode-Geschwindigkeit des aktuellen Laufs</translation>
    </message>
    <message>
        <source>Hit rate %1</source>
        <translation>Trefferquote %1</translation>
    </message>
    <message>
        <source>Decode hit rate of the chosen policy</source>
        <translation>Decode-Trefferquote der gewählten Strategie</translation>
    </message>
    <message>
        <source>Stall %1</source>
        <translation>Wartezeit %1</translation>
    </message>
    <message>
        <source>Share of the run&apos;s time the forward pass waited for experts (measured)</source>
        <translation>Anteil der Laufzeit, in dem der Vorwärtsdurchlauf auf Experten wartete (gemessen)</translation>
    </message>
    <message>
        <source>Share of modelled time compute waited for expert loads</source>
        <translation>Anteil der modellierten Zeit, in dem die Berechnung auf das Laden von Experten wartete</translation>
    </message>
</context>
<context>
    <name>moescope::views::SettingsPanel</name>
    <message>
        <source>Generation</source>
        <translation>Generierung</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>Max. neue Tokens</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Temperatur</translation>
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
        <translation>Wiederholungsstrafe</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Startwert</translation>
    </message>
    <message>
        <source>until the end</source>
        <translation>bis zum Ende</translation>
    </message>
    <message>
        <source>greedy</source>
        <translation>gierig</translation>
    </message>
    <message>
        <source>all</source>
        <translation>alle</translation>
    </message>
    <message>
        <source>Expert cache</source>
        <translation>Experten-Cache</translation>
    </message>
    <message>
        <source>Offload experts (real expert store)</source>
        <translation>Experten auslagern (echter Expertenspeicher)</translation>
    </message>
    <message>
        <source>On: experts are really loaded into a bounded cache and the forward pass waits for them. Off: experts stay mapped and every policy is simulated on the routing.</source>
        <translation>An: Experten werden wirklich in einen begrenzten Cache geladen, und der Vorwärtsdurchlauf wartet auf sie. Aus: Experten bleiben eingeblendet, und jede Strategie wird auf dem Routing simuliert.</translation>
    </message>
    <message>
        <source>Budget</source>
        <translation>Budget</translation>
    </message>
    <message>
        <source>Policy</source>
        <translation>Strategie</translation>
    </message>
    <message>
        <source>Prefetcher</source>
        <translation>Vorablader</translation>
    </message>
    <message>
        <source>Link</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <source>Allocator</source>
        <translation>Aufteilung</translation>
    </message>
    <message>
        <source>Share of the model&apos;s routed experts the cache may hold</source>
        <translation>Anteil der gerouteten Experten des Modells, den der Cache halten darf</translation>
    </message>
    <message>
        <source>Emulated link between the slow tier and the cache; loads are paced to it</source>
        <translation>Emulierte Verbindung zwischen langsamem Speicher und Cache; Ladevorgänge werden an sie angepasst</translation>
    </message>
    <message>
        <source>Compare policies</source>
        <translation>Strategien vergleichen</translation>
    </message>
    <message>
        <source>Policies simulated on the same access stream and budget</source>
        <translation>Strategien, die auf demselben Zugriffsstrom und Budget simuliert werden</translation>
    </message>
    <message>
        <source>%1 (oracle)</source>
        <translation>%1 (Orakel)</translation>
    </message>
    <message>
        <source>Show the oracle references (belady-bypass, SCH)</source>
        <translation>Orakel-Referenzen zeigen (belady-bypass, SCH)</translation>
    </message>
    <message>
        <source>SCH window (tokens)</source>
        <translation>SCH-Fenster (Tokens)</translation>
    </message>
    <message>
        <source>Lossy gating variants (change the output)</source>
        <translation>Verlustbehaftetes Gating (ändert die Ausgabe)</translation>
    </message>
    <message>
        <source>Open a model to see the budget in experts and bytes</source>
        <translation>Ein Modell öffnen, um das Budget in Experten und Bytes zu sehen</translation>
    </message>
    <message>
        <source>%1 of %2 experts, about %3</source>
        <translation>%1 von %2 Experten, etwa %3</translation>
    </message>
    <message>
        <source>Record runs into a trace</source>
        <translation>Läufe in einem Trace aufzeichnen</translation>
    </message>
    <message>
        <source>MoEScope traces (*.sqlite)</source>
        <translation>MoEScope-Traces (*.sqlite)</translation>
    </message>
    <message>
        <source>Lossy: these variants change which experts compute, so the text differs from the exact model. They act on the real expert store (offloading on).</source>
        <translation>Verlustbehaftet: Diese Varianten ändern, welche Experten rechnen, daher weicht der Text vom exakten Modell ab. Sie wirken auf den echten Expertenspeicher (Auslagern an).</translation>
    </message>
    <message>
        <source>Adaptive top-k (lossy), threshold</source>
        <translation>Adaptives Top-k (verlustbehaftet), Schwelle</translation>
    </message>
    <message>
        <source>Drop a token&apos;s trailing expert while its renormalised weight is below the threshold (AdapMoE)</source>
        <translation>Den letzten Experten eines Tokens weglassen, solange sein renormiertes Gewicht unter der Schwelle liegt (AdapMoE)</translation>
    </message>
    <message>
        <source>Cache-aware substitution (lossy), ε</source>
        <translation>Cache-bewusste Ersetzung (verlustbehaftet), ε</translation>
    </message>
    <message>
        <source>Replace a missed expert by the most probable resident one whose router probability is within ε of it</source>
        <translation>Einen fehlenden Experten durch den wahrscheinlichsten im Cache ersetzen, dessen Router-Wahrscheinlichkeit höchstens ε davon abweicht</translation>
    </message>
    <message>
        <source>Recording</source>
        <translation>Aufzeichnung</translation>
    </message>
    <message>
        <source>Record every run into a trace</source>
        <translation>Jeden Lauf in einem Trace aufzeichnen</translation>
    </message>
    <message>
        <source>trace file (.sqlite)</source>
        <translation>Trace-Datei (.sqlite)</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Auswählen…</translation>
    </message>
    <message>
        <source>No prefetching: experts are loaded when a layer asks for them</source>
        <translation>Kein Vorabladen: Experten werden geladen, wenn eine Schicht sie anfordert</translation>
    </message>
    <message>
        <source>Prefetch the experts this layer used for the previous token</source>
        <translation>Lädt die Experten vorab, die diese Schicht für das vorige Token nutzte</translation>
    </message>
    <message>
        <source>Learns online which experts follow which in the next layer and prefetches the most likely ones</source>
        <translation>Lernt online, welche Experten in der nächsten Schicht auf welche folgen, und lädt die wahrscheinlichsten vorab</translation>
    </message>
    <message>
        <source>Affinity, predicting two layers ahead</source>
        <translation>Affinität, zwei Schichten voraus</translation>
    </message>
    <message>
        <source>Prefetch the target layer&apos;s most used experts of the last 64 tokens</source>
        <translation>Lädt die in den letzten 64 Tokens meistgenutzten Experten der Zielschicht vorab</translation>
    </message>
    <message>
        <source>Next-gate speculation: the engine applies the next layer&apos;s router to the current hidden state. Its predictions are recorded while generating, so choose it before you generate</source>
        <translation>Next-Gate-Spekulation: Die Engine wendet den Router der nächsten Schicht auf den aktuellen verborgenen Zustand an. Ihre Vorhersagen werden beim Generieren aufgezeichnet; wählen Sie sie also vor dem Generieren</translation>
    </message>
    <message>
        <source>Next-gate speculation two layers ahead</source>
        <translation>Next-Gate-Spekulation, zwei Schichten voraus</translation>
    </message>
    <message>
        <source>Unavailable: affinity tables fitted on an earlier routing trace and frozen. A live run has no earlier trace to fit on</source>
        <translation>Nicht verfügbar: Affinitätstabellen, an einem früheren Routing-Trace angepasst und eingefroren. Ein Live-Lauf hat keinen früheren Trace zum Anpassen</translation>
    </message>
    <message>
        <source>Unavailable: the ExpertFlow-style path predictor is fitted on earlier routing traces. A live run has no earlier trace to fit on</source>
        <translation>Nicht verfügbar: Der Pfadprädiktor im Stil von ExpertFlow wird an früheren Routing-Traces angepasst. Ein Live-Lauf hat keinen früheren Trace zum Anpassen</translation>
    </message>
    <message>
        <source>Unavailable: pins the most routed experts of an earlier routing trace. A live run has no earlier trace to count from</source>
        <translation>Nicht verfügbar: Hält die meistgerouteten Experten eines früheren Routing-Traces fest. Ein Live-Lauf hat keinen früheren Trace zum Zählen</translation>
    </message>
    <message>
        <source>Predicts the experts of a later layer and loads them ahead. Greyed-out entries need a trace to fit on first; hover an entry for what it does</source>
        <translation>Sagt die Experten einer späteren Schicht voraus und lädt sie vorab. Ausgegraute Einträge brauchen zuerst einen Trace zum Anpassen; fahren Sie über einen Eintrag, um zu sehen, was er tut</translation>
    </message>
    <message>
        <source>Offloading: %1</source>
        <translation>Auslagerung: %1</translation>
    </message>
    <message>
        <source>on</source>
        <translation>an</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Budget: %1 %</source>
        <translation>Budget: %1 %</translation>
    </message>
    <message>
        <source>Policy: %1</source>
        <translation>Strategie: %1</translation>
    </message>
    <message>
        <source>Prefetcher: %1</source>
        <translation>Vorablader: %1</translation>
    </message>
    <message>
        <source>Link: %1</source>
        <translation>Verbindung: %1</translation>
    </message>
    <message>
        <source>Allocator: %1</source>
        <translation>Zuteilung: %1</translation>
    </message>
    <message>
        <source>Compared: %1</source>
        <translation>Verglichen: %1</translation>
    </message>
    <message>
        <source>Your settings are the same.</source>
        <translation>Ihre Einstellungen sind dieselben.</translation>
    </message>
    <message>
        <source>The run on show is analysed with these settings. Your settings below stay as they are; changing them re-analyses the run with yours.</source>
        <translation>Der angezeigte Lauf wird mit diesen Einstellungen analysiert. Ihre Einstellungen unten bleiben, wie sie sind; ändern Sie sie, wird der Lauf mit Ihren neu analysiert.</translation>
    </message>
    <message>
        <source>The run on show is analysed with your settings below.</source>
        <translation>Der angezeigte Lauf wird mit Ihren Einstellungen unten analysiert.</translation>
    </message>
    <message>
        <source>Choose a trace file first (type a path or use Choose…)</source>
        <translation>Wählen Sie zuerst eine Trace-Datei (Pfad eingeben oder „Auswählen…“)</translation>
    </message>
    <message>
        <source>Recorded with the trace (read-only)</source>
        <translation>Mit dem Trace aufgezeichnet (schreibgeschützt)</translation>
    </message>
    <message>
        <source>Use these settings</source>
        <translation>Diese Einstellungen übernehmen</translation>
    </message>
    <message>
        <source>Copy the trace&apos;s recorded cache settings into your settings; the next run uses them</source>
        <translation>Übernimmt die aufgezeichneten Cache-Einstellungen des Traces in Ihre Einstellungen; der nächste Lauf verwendet sie</translation>
    </message>
    <message>
        <source>Least recently used: evicts the expert whose last use is oldest</source>
        <translation>Least recently used: verdrängt den Experten, dessen letzte Nutzung am längsten zurückliegt</translation>
    </message>
    <message>
        <source>Least frequently used: evicts the expert used least often, counts aging</source>
        <translation>Least frequently used: verdrängt den am seltensten genutzten Experten, Zählungen altern</translation>
    </message>
    <message>
        <source>First in, first out: evicts the expert loaded longest ago</source>
        <translation>First in, first out: verdrängt den am längsten geladenen Experten</translation>
    </message>
    <message>
        <source>Evicts a uniformly random resident expert</source>
        <translation>Verdrängt einen gleichverteilt zufälligen geladenen Experten</translation>
    </message>
    <message>
        <source>Adaptive replacement cache: balances a recency and a frequency list</source>
        <translation>Adaptive Replacement Cache: wägt eine Aktualitäts- und eine Häufigkeitsliste ab</translation>
    </message>
    <message>
        <source>One pool: first evicts experts of layers that already ran for the current token (least recently used among them), else the least recently used</source>
        <translation>Ein Pool: verdrängt zuerst Experten von Schichten, die für das aktuelle Token schon liefen (darunter den am längsten ungenutzten), sonst den am längsten ungenutzten</translation>
    </message>
    <message>
        <source>One pool: least recently used, but never evicts experts of the next 3 layers</source>
        <translation>Ein Pool: least recently used, verdrängt aber nie Experten der nächsten 3 Schichten</translation>
    </message>
    <message>
        <source>One pool: pins whole layers from the first, as many as fit; the rest load on demand</source>
        <translation>Ein Pool: hält ganze Schichten ab der ersten, so viele passen; der Rest wird bei Bedarf geladen</translation>
    </message>
    <message>
        <source>One pool: pins whole layers from the last, as many as fit; the rest load on demand</source>
        <translation>Ein Pool: hält ganze Schichten ab der letzten, so viele passen; der Rest wird bei Bedarf geladen</translation>
    </message>
    <message>
        <source>Nothing cached: every use loads the expert and drops it</source>
        <translation>Nichts im Cache: jede Nutzung lädt den Experten und verwirft ihn</translation>
    </message>
    <message>
        <source>%1. Global: one pool for all layers</source>
        <translation>%1. Global: ein Pool für alle Schichten</translation>
    </message>
    <message>
        <source>No emulated link: loads take no modelled time</source>
        <translation>Keine emulierte Verbindung: Ladevorgänge kosten keine modellierte Zeit</translation>
    </message>
    <message>
        <source>%1/s, %2 latency per load</source>
        <translation>%1/s, %2 Latenz pro Ladevorgang</translation>
    </message>
    <message>
        <source>At most the context, %1 tokens, less the prompt; &quot;until the end&quot; stops at the end of generation or a full context</source>
        <translation>Höchstens der Kontext, %1 Tokens, abzüglich des Prompts; „bis zum Ende“ hält am Ende der Generierung oder bei vollem Kontext</translation>
    </message>
</context>
<context>
    <name>moescope::views::SuitabilityModel</name>
    <message>
        <source>m = %1 tokens</source>
        <translation>m = %1 Tokens</translation>
    </message>
    <message>
        <source>LRU</source>
        <translation>LRU</translation>
    </message>
    <message>
        <source>OPT (demand MIN, bound)</source>
        <translation>OPT (Bedarfs-MIN, Schranke)</translation>
    </message>
    <message>
        <source>%1 %</source>
        <translation>%1 %</translation>
    </message>
    <message>
        <source>Window / policy</source>
        <translation>Fenster / Strategie</translation>
    </message>
    <message>
        <source>SRP(m)</source>
        <translation>SRP(m)</translation>
    </message>
    <message>
        <source>Hit rate, k: one pool of %1 slots</source>
        <translation>Trefferquote, k: ein Pool von %1 Plätzen</translation>
    </message>
    <message>
        <source>Hit rate, 2k: one pool of %1 slots</source>
        <translation>Trefferquote, 2k: ein Pool von %1 Plätzen</translation>
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
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>given</source>
        <translation>vorgegeben</translation>
    </message>
    <message>
        <source>measured</source>
        <translation>gemessen</translation>
    </message>
    <message>
        <source>assumed: the run has no measured compute</source>
        <translation>angenommen: der Lauf hat keine gemessene Rechenzeit</translation>
    </message>
    <message>
        <source>Well suited on %1: loading every routed expert takes no longer than computing, even without a cache.</source>
        <translation>Gut geeignet für %1: Jeden gerouteten Experten zu laden dauert nicht länger als das Rechnen, sogar ohne Cache.</translation>
    </message>
    <message>
        <source>Well suited on %1: with %2 slots per layer (%3k) LRU reaches %4 hits, above the %5 break-even.</source>
        <translation>Gut geeignet für %1: Mit %2 Plätzen pro Schicht (%3k) erreicht LRU %4 Treffer, über der Gewinnschwelle von %5.</translation>
    </message>
    <message>
        <source>Suited only with a better policy or prefetcher on %1: at 2k LRU reaches %2 hits, below the %3 break-even; OPT (demand MIN) reaches %4.</source>
        <translation>Für %1 nur mit besserer Strategie oder Vorabladen geeignet: Bei 2k erreicht LRU %2 Treffer, unter der Gewinnschwelle von %3; OPT (Bedarfs-MIN) erreicht %4.</translation>
    </message>
    <message>
        <source>Poorly suited on %1: at 2k even OPT (demand MIN) stays below the %2 break-even; LRU needs %3 of %4 slots per layer.</source>
        <translation>Schlecht geeignet für %1: Bei 2k bleibt selbst OPT (Bedarfs-MIN) unter der Gewinnschwelle von %2; LRU braucht %3 von %4 Plätzen pro Schicht.</translation>
    </message>
    <message>
        <source>Unsuited on %1: only keeping (nearly) every expert resident reaches the %2 break-even.</source>
        <translation>Ungeeignet für %1: Nur wenn (fast) jeder Experte resident bleibt, wird die Gewinnschwelle von %2 erreicht.</translation>
    </message>
    <message>
        <source>Suitability</source>
        <translation>Eignung</translation>
    </message>
    <message>
        <source>No suitability analysis yet: generate text or open a trace.</source>
        <translation>Noch keine Eignungsanalyse: Text erzeugen oder eine Aufzeichnung öffnen.</translation>
    </message>
    <message>
        <source>Break-even hit rate on %1: h* = 1 - C / L = %2, with C = %3 of compute per token (%4) and L = %5 to load all its routed experts.</source>
        <translation>Gewinnschwelle der Trefferquote für %1: h* = 1 - C / L = %2, mit C = %3 Rechenzeit pro Token (%4) und L = %5, um alle seine gerouteten Experten zu laden.</translation>
    </message>
    <message>
        <source>Smallest cache reaching it: LRU %1, OPT %2 (of %3 experts per layer).</source>
        <translation>Kleinster Cache, der sie erreicht: LRU %1, OPT %2 (von %3 Experten pro Schicht).</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>SRP(m) (model level, Liang et al. 2025): best F1 of predicting, for every segment of m tokens, the experts it routes to at least j times (floor 2k/(n+k): %1). SCH(m): the cache that evicts the expert least used in the segment [t, t+m); the table's hit rates use one pool of k (2k) slots per layer in total, and OPT (demand MIN) bounds LRU and SCH there. %2 tokens, replayed one by one.</source>
        <translation>SRP(m) (Modellebene, Liang et al. 2025): bester F1-Wert, wenn für jedes Segment von m Tokens die Experten vorhergesagt werden, die es mindestens j-mal routet (Untergrenze 2k/(n+k): %1). SCH(m): der Cache, der den im Segment [t, t+m) am wenigsten genutzten Experten verdrängt; die Trefferquoten der Tabelle nutzen einen Pool von insgesamt k (2k) Plätzen pro Schicht, und OPT (Bedarfs-MIN) begrenzt dort LRU und SCH. %2 Tokens, einzeln nachgespielt.</translation>
    </message>
</context>
<context>
    <name>moescope::views::TextPanel</name>
    <message>
        <source>Colour by</source>
        <translation>Färben nach</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>Nichts</translation>
    </message>
    <message>
        <source>Cache misses</source>
        <translation>Cache-Fehlzugriffe</translation>
    </message>
    <message>
        <source>Stall time</source>
        <translation>Wartezeit</translation>
    </message>
    <message>
        <source>Expert at layer</source>
        <translation>Experte in Schicht</translation>
    </message>
    <message>
        <source>Router entropy</source>
        <translation>Router-Entropie</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>Schicht</translation>
    </message>
    <message>
        <source>The MoE layer for &quot;Expert at layer&quot; and the token × expert heatmap</source>
        <translation>Die MoE-Schicht für „Experte in Schicht“ und die Token-×-Experte-Heatmap</translation>
    </message>
    <message>
        <source>Missed selections</source>
        <translation>Verfehlte Auswahlen</translation>
    </message>
    <message>
        <source>Stall (measured)</source>
        <translation>Wartezeit (gemessen)</translation>
    </message>
    <message>
        <source>Stall (modelled)</source>
        <translation>Wartezeit (modelliert)</translation>
    </message>
    <message>
        <source>Top-1 expert</source>
        <translation>Top-1-Experte</translation>
    </message>
    <message>
        <source>0 bits</source>
        <translation>0 Bit</translation>
    </message>
    <message>
        <source>%1 bits</source>
        <translation>%1 Bit</translation>
    </message>
    <message>
        <source>Top-k weight entropy</source>
        <translation>Entropie der Top-k-Gewichte</translation>
    </message>
    <message>
        <source>This run has no router logits (recorded without them): the entropy is of the selected experts&apos; mixing weights normalised to 1, at most log2(k) bits. It shows how evenly a token split itself among its chosen experts.</source>
        <translation>Dieser Lauf hat keine Router-Logits (ohne sie aufgezeichnet): Die Entropie ist die der auf 1 normierten Mischgewichte der gewählten Experten, höchstens log2(k) Bit. Sie zeigt, wie gleichmäßig sich ein Token auf seine gewählten Experten verteilt.</translation>
    </message>
    <message>
        <source>Entropy of the router&apos;s distribution over all experts, averaged over the layers: 0 bits when one expert takes everything, log2(experts) when the router cannot tell them apart.</source>
        <translation>Entropie der Router-Verteilung über alle Experten, gemittelt über die Schichten: 0 Bit, wenn ein Experte alles übernimmt, log2(Experten), wenn der Router sie nicht unterscheiden kann.</translation>
    </message>
    <message>
        <source>Click a token: its routing stays here, to select and copy</source>
        <translation>Klicken Sie auf ein Token: sein Routing bleibt hier, zum Markieren und Kopieren</translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenExpertModel</name>
    <message>
        <source>Token %1 «%2», layer %3, expert %4</source>
        <translation>Token %1 »%2«, Schicht %3, Experte %4</translation>
    </message>
    <message>
        <source>Not selected</source>
        <translation>Nicht gewählt</translation>
    </message>
    <message>
        <source>Rank %1, weight %2</source>
        <translation>Rang %1, Gewicht %2</translation>
    </message>
    <message>
        <source>Cache: miss</source>
        <translation>Cache: Fehlzugriff</translation>
    </message>
    <message>
        <source>Cache: hit</source>
        <translation>Cache: Treffer</translation>
    </message>
    <message>
        <source>Cache: hit on a prefetched expert</source>
        <translation>Cache: Treffer auf einem vorab geladenen Experten</translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenExpertPanel</name>
    <message>
        <source>Layer</source>
        <translation>Schicht</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Einpassen</translation>
    </message>
    <message>
        <source>Fit the grid to the view (0); zoom with Ctrl+wheel or +/-, drag to pan</source>
        <translation>Raster an die Ansicht anpassen (0); zoomen mit Strg+Mausrad oder +/-, verschieben durch Ziehen</translation>
    </message>
    <message>
        <source>Mixing weight</source>
        <translation>Mischgewicht</translation>
    </message>
    <message>
        <source>&lt;span style=&apos;color:#dc2828&apos;&gt;◥&lt;/span&gt; cache miss</source>
        <translation>&lt;span style=&apos;color:#dc2828&apos;&gt;◥&lt;/span&gt; Cache-Fehlzugriff</translation>
    </message>
</context>
<context>
    <name>moescope::views::TokenTextView</name>
    <message>
        <source>Generated tokens appear here, coloured by the chosen measure. Hover a token for its routing path, click it to select it everywhere.</source>
        <translation>Generierte Tokens erscheinen hier, gefärbt nach dem gewählten Maß. Zeigen Sie auf ein Token für seinen Routing-Pfad, klicken Sie darauf, um es überall auszuwählen.</translation>
    </message>
    <message>
        <source>Token %1</source>
        <translation>Token %1</translation>
    </message>
    <message>
        <source>(id %1, %2)</source>
        <translation>(ID %1, %2)</translation>
    </message>
    <message>
        <source>generated</source>
        <translation>generiert</translation>
    </message>
    <message>
        <source>prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>Not routed yet: a token is routed when it is fed back.</source>
        <translation>Noch nicht geroutet: Ein Token wird geroutet, wenn es zurückgeführt wird.</translation>
    </message>
    <message>
        <source>prefill</source>
        <translation>Prefill</translation>
    </message>
    <message>
        <source>decode</source>
        <translation>Decode</translation>
    </message>
    <message>
        <source>stall %1</source>
        <translation>Wartezeit %1</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>Schicht</translation>
    </message>
    <message>
        <source>Experts (weight)</source>
        <translation>Experten (Gewicht)</translation>
    </message>
    <message>
        <source>Entropy</source>
        <translation>Entropie</translation>
    </message>
    <message>
        <source>Cache (%1)</source>
        <translation>Cache (%1)</translation>
    </message>
    <message>
        <source>hit</source>
        <translation>Treffer</translation>
    </message>
    <message>
        <source>prefetched</source>
        <translation>vorab geladen</translation>
    </message>
    <message>
        <source>miss</source>
        <translation>Fehlzugriff</translation>
    </message>
    <message>
        <source>beginning of sequence (BOS)</source>
        <translation>Sequenzanfang (BOS)</translation>
    </message>
    <message>
        <source>end of sequence (EOS): generation ends here</source>
        <translation>Sequenzende (EOS): Die Generierung endet hier</translation>
    </message>
    <message>
        <source>end of generation (EOG, e.g. end of turn): generation ends here</source>
        <translation>Generierungsende (EOG, z. B. Ende des Zugs): Die Generierung endet hier</translation>
    </message>
    <message>
        <source>the unknown-token placeholder</source>
        <translation>der Platzhalter für unbekannte Tokens</translation>
    </message>
    <message>
        <source>a control token</source>
        <translation>ein Steuertoken</translation>
    </message>
    <message>
        <source>Special token, %1. It makes no text; the grey badge shows its name.</source>
        <translation>Sondertoken, %1. Es erzeugt keinen Text; das graue Abzeichen zeigt seinen Namen.</translation>
    </message>
    <message>
        <source>Entropy (top-k)</source>
        <translation>Entropie (Top-k)</translation>
    </message>
</context>
<context>
    <name>moescope::views::TracePanel</name>
    <message>
        <source>Could not open %1: %2</source>
        <translation>%1 konnte nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>%1: showing run %2</source>
        <translation>%1: Lauf %2 wird gezeigt</translation>
    </message>
    <message>
        <source>Open a trace</source>
        <translation>Trace öffnen</translation>
    </message>
    <message>
        <source>MoEScope traces (*.sqlite);;All files (*)</source>
        <translation>MoEScope-Traces (*.sqlite);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Reading %1 …</source>
        <translation>%1 wird gelesen …</translation>
    </message>
    <message>
        <source>%1 holds no runs</source>
        <translation>%1 enthält keine Läufe</translation>
    </message>
    <message>
        <source>Comparing runs %1 and %2 …</source>
        <translation>Läufe %1 und %2 werden verglichen …</translation>
    </message>
    <message>
        <source>Cannot compare: %1</source>
        <translation>Vergleich nicht möglich: %1</translation>
    </message>
    <message>
        <source>Runs %1 and %2 produced the same tokens.</source>
        <translation>Die Läufe %1 und %2 haben dieselben Tokens erzeugt.</translation>
    </message>
    <message>
        <source>Runs %1 and %2 first differ at token %3.</source>
        <translation>Die Läufe %1 und %2 unterscheiden sich zuerst bei Token %3.</translation>
    </message>
    <message>
        <source>Their routing agrees wherever both were routed.</source>
        <translation>Ihr Routing stimmt überall überein, wo beide geroutet wurden.</translation>
    </message>
    <message>
        <source>Routing first differs at token %1.</source>
        <translation>Das Routing unterscheidet sich zuerst bei Token %1.</translation>
    </message>
    <message>
        <source>Open trace…</source>
        <translation>Trace öffnen…</translation>
    </message>
    <message>
        <source>Open a trace recorded with `moescope record` or by this window</source>
        <translation>Einen mit `moescope record` oder von diesem Fenster aufgezeichneten Trace öffnen</translation>
    </message>
    <message>
        <source>No trace open</source>
        <translation>Kein Trace geöffnet</translation>
    </message>
    <message>
        <source>Show run</source>
        <translation>Lauf zeigen</translation>
    </message>
    <message>
        <source>Show the selected run in every view (or double-click it)</source>
        <translation>Den gewählten Lauf in allen Ansichten zeigen (oder doppelklicken)</translation>
    </message>
    <message>
        <source>Compare two runs</source>
        <translation>Zwei Läufe vergleichen</translation>
    </message>
    <message>
        <source>Select two runs to align them token by token</source>
        <translation>Zwei Läufe auswählen, um sie Token für Token gegenüberzustellen</translation>
    </message>
    <message>
        <source>Select two runs and compare them.</source>
        <translation>Wählen Sie zwei Läufe aus und vergleichen Sie sie.</translation>
    </message>
    <message>
        <source>Recorded with %1, not the loaded model: the views show the trace as recorded; Generate runs the loaded model.</source>
        <translation>Aufgezeichnet mit %1, nicht mit dem geladenen Modell: die Ansichten zeigen den Trace wie aufgezeichnet; Generieren verwendet das geladene Modell.</translation>
    </message>
    <message>
        <source>it holds no runs</source>
        <translation>er enthält keine Läufe</translation>
    </message>
</context>
<context>
    <name>moescope::views::ViewExport</name>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Kopieren</translation>
    </message>
    <message>
        <source>Copies the view&apos;s table as text and its picture</source>
        <translation>Kopiert die Tabelle der Ansicht als Text und ihr Bild</translation>
    </message>
    <message>
        <source>Save &amp;image…</source>
        <translation>&amp;Bild speichern…</translation>
    </message>
    <message>
        <source>Export C&amp;SV…</source>
        <translation>C&amp;SV exportieren…</translation>
    </message>
    <message>
        <source>Save image</source>
        <translation>Bild speichern</translation>
    </message>
    <message>
        <source>PNG image (*.png);;SVG image (*.svg)</source>
        <translation>PNG-Bild (*.png);;SVG-Bild (*.svg)</translation>
    </message>
    <message>
        <source>Export CSV</source>
        <translation>CSV exportieren</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV-Dateien (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export fehlgeschlagen</translation>
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
        <translation>Geräte</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Redundant experts</source>
        <translation>Redundante Experten</translation>
    </message>
    <message>
        <source>placement</source>
        <translation>Platzierung</translation>
    </message>
    <message>
        <source>balancedness</source>
        <translation>Ausgewogenheit</translation>
    </message>
    <message>
        <source>step balancedness</source>
        <translation>Ausgewogenheit je Schritt</translation>
    </message>
    <message>
        <source>straggler</source>
        <translation>Nachzügler</translation>
    </message>
    <message>
        <source>same-device pairs</source>
        <translation>Paare auf einem Gerät</translation>
    </message>
    <message>
        <source>intra-node MB</source>
        <translation>MB im Knoten</translation>
    </message>
    <message>
        <source>inter-node MB</source>
        <translation>MB zwischen Knoten</translation>
    </message>
    <message>
        <source>modelled MoE time ms</source>
        <translation>modellierte MoE-Zeit ms</translation>
    </message>
    <message>
        <source>No placement yet: generate text or open a trace.</source>
        <translation>Noch keine Platzierung: Text erzeugen oder eine Aufzeichnung öffnen.</translation>
    </message>
    <message>
        <source>No placement: %1</source>
        <translation>Keine Platzierung: %1</translation>
    </message>
    <message>
        <source>D%1</source>
        <translation>G%1</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>S%1</translation>
    </message>
    <message>
        <source>%1: routed pairs per layer and device</source>
        <translation>%1: geroutete Paare je Schicht und Gerät</translation>
    </message>
    <message>
        <source>all-to-all: token messages from home (row) to device (column)</source>
        <translation>All-to-all: Token-Nachrichten vom Heimatgerät (Zeile) zum Gerät (Spalte)</translation>
    </message>
</context>
<context>
    <name>moescope::gui::MainWindow</name>
    <message>
        <source>Workload finished: %1 requests</source>
        <translation>Workload beendet: %1 Anfragen</translation>
    </message>
    <message>
        <source>The workload failed: %1</source>
        <translation>Der Workload ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Workload</source>
        <translation>Workload</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
</context>
<context>
    <name>moescope::views::BatchController</name>
    <message>
        <source>no model is loaded</source>
        <translation>kein Modell geladen</translation>
    </message>
    <message>
        <source>the engine is busy; stop the running generation first</source>
        <translation>die Engine ist beschäftigt; stoppen Sie zuerst die laufende Generierung</translation>
    </message>
</context>
<context>
    <name>moescope::views::RequestListModel</name>
    <message>
        <source>waiting</source>
        <translation>wartet</translation>
    </message>
    <message>
        <source>running</source>
        <translation>läuft</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>fertig</translation>
    </message>
    <message>
        <source>finished (%1)</source>
        <translation>fertig (%1)</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>gestoppt</translation>
    </message>
    <message>
        <source>%1 + %2</source>
        <translation>%1 + %2</translation>
    </message>
    <message>
        <source>Prompt tokens + generated tokens</source>
        <translation>Prompt-Tokens + generierte Tokens</translation>
    </message>
    <message>
        <source>Time to first token: from the request&apos;s arrival to its first sampled token</source>
        <translation>Zeit bis zum ersten Token: vom Eintreffen der Anfrage bis zu ihrem ersten gezogenen Token</translation>
    </message>
    <message>
        <source>Time per output token after the first</source>
        <translation>Zeit pro Ausgabetoken nach dem ersten</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>Anfrage</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
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
        <translation>(nicht aufgezeichnet)</translation>
    </message>
    <message>
        <source>Scheduler</source>
        <translation>Scheduler</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>Distinct experts per step-layer</source>
        <translation>Verschiedene Experten je Schritt und Schicht</translation>
    </message>
    <message>
        <source>Straggler (mean)</source>
        <translation>Nachzügler (Mittel)</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>Bewegte Bytes</translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation>Tokens/s</translation>
    </message>
    <message>
        <source>p95 TTFT (ms)</source>
        <translation>p95-TTFT (ms)</translation>
    </message>
</context>
<context>
    <name>moescope::views::StepLayerModel</name>
    <message>
        <source>Step %1, MoE layer %2: %3 of %4 experts ran, %5 token-expert pairs, the busiest expert got %6 tokens (straggler %7)</source>
        <translation>Schritt %1, MoE-Schicht %2: %3 von %4 Experten liefen, %5 Token-Experten-Paare, der meistbeschäftigte Experte bekam %6 Tokens (Nachzügler %7)</translation>
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
        <translation>Verschiedene Experten, die der Schritt ausführte, gemittelt über die MoE-Schichten</translation>
    </message>
    <message>
        <source>Straggler factor: the most tokens one expert got over the mean tokens per expert, the worst MoE layer of the step</source>
        <translation>Nachzüglerfaktor: die meisten Tokens eines Experten geteilt durch die mittleren Tokens je Experte, die schlechteste MoE-Schicht des Schritts</translation>
    </message>
    <message>
        <source>Bytes the expert cache loaded for the step (— without offloading)</source>
        <translation>Bytes, die der Expertencache für den Schritt lud (— ohne Auslagerung)</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>Schritt</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>Distinct experts</source>
        <translation>Verschiedene Experten</translation>
    </message>
    <message>
        <source>Straggler</source>
        <translation>Nachzügler</translation>
    </message>
    <message>
        <source>Bytes moved</source>
        <translation>Bewegte Bytes</translation>
    </message>
    <message>
        <source>Time (ms)</source>
        <translation>Zeit (ms)</translation>
    </message>
</context>
<context>
    <name>moescope::views::StepTimelinePanel</name>
    <message>
        <source>Cells</source>
        <translation>Zellen</translation>
    </message>
    <message>
        <source>distinct experts per step and layer</source>
        <translation>verschiedene Experten je Schritt und Schicht</translation>
    </message>
    <message>
        <source>straggler factor (max / mean tokens per expert)</source>
        <translation>Nachzüglerfaktor (max. / mittlere Tokens je Experte)</translation>
    </message>
    <message>
        <source>Run a workload (Workload panel) or open a batched trace to see its steps.</source>
        <translation>Führen Sie einen Workload aus (Bereich Workload) oder öffnen Sie einen gebündelten Trace, um seine Schritte zu sehen.</translation>
    </message>
    <message>
        <source>The same workload under each scheduler, run one after the other with the same settings: scheduling is exact, so every request got the same text; the steps differ.</source>
        <translation>Derselbe Workload unter jedem Scheduler, nacheinander mit denselben Einstellungen ausgeführt: das Scheduling ist exakt, daher bekam jede Anfrage denselben Text; die Schritte unterscheiden sich.</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>Steps — %1</source>
        <translation>Schritte — %1</translation>
    </message>
</context>
<context>
    <name>moescope::views::WorkloadPanel</name>
    <message>
        <source>Workload finished.</source>
        <translation>Workload beendet.</translation>
    </message>
    <message>
        <source>The workload failed: %1</source>
        <translation>Der Workload ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>%1 konnte nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Prompts from %1: %2</source>
        <translation>Prompts aus %1: %2</translation>
    </message>
    <message>
        <source>Load a workload</source>
        <translation>Workload laden</translation>
    </message>
    <message>
        <source>Workloads (*.txt *.jsonl);;All files (*)</source>
        <translation>Workloads (*.txt *.jsonl);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Running the workload …</source>
        <translation>Workload läuft …</translation>
    </message>
    <message>
        <source>(scheduler not recorded)</source>
        <translation>(Scheduler nicht aufgezeichnet)</translation>
    </message>
    <message>
        <source>Prompts</source>
        <translation>Prompts</translation>
    </message>
    <message>
        <source>One prompt per line</source>
        <translation>Ein Prompt pro Zeile</translation>
    </message>
    <message>
        <source>Load file…</source>
        <translation>Datei laden…</translation>
    </message>
    <message>
        <source>A text file (one prompt per line) or JSONL ({&quot;prompt&quot;: …} per line), as moescope batch --prompts reads it</source>
        <translation>Eine Textdatei (ein Prompt pro Zeile) oder JSONL ({&quot;prompt&quot;: …} pro Zeile), wie moescope batch --prompts sie liest</translation>
    </message>
    <message>
        <source>Max batch</source>
        <translation>Max. Batch</translation>
    </message>
    <message>
        <source>Requests per step (forward call)</source>
        <translation>Anfragen je Schritt (Vorwärtsaufruf)</translation>
    </message>
    <message>
        <source>Arrival</source>
        <translation>Ankunft</translation>
    </message>
    <message>
        <source>all at once</source>
        <translation>alle auf einmal</translation>
    </message>
    <message>
        <source>Poisson</source>
        <translation>Poisson</translation>
    </message>
    <message>
        <source> /s</source>
        <translation> /s</translation>
    </message>
    <message>
        <source>Requests per second</source>
        <translation>Anfragen pro Sekunde</translation>
    </message>
    <message>
        <source>Seed of the Poisson arrivals</source>
        <translation>Startwert der Poisson-Ankünfte</translation>
    </message>
    <message>
        <source>Scheduler</source>
        <translation>Scheduler</translation>
    </message>
    <message>
        <source>FIFO</source>
        <translation>FIFO</translation>
    </message>
    <message>
        <source>expert-aware (ExpertFlow)</source>
        <translation>expertenbewusst (ExpertFlow)</translation>
    </message>
    <message>
        <source>FIFO and expert-aware, side by side</source>
        <translation>FIFO und expertenbewusst, nebeneinander</translation>
    </message>
    <message>
        <source>Both: the same workload runs twice, one run after the other; scheduling is exact, so every request gets the same text</source>
        <translation>Beide: derselbe Workload läuft zweimal, nacheinander; das Scheduling ist exakt, daher bekommt jede Anfrage denselben Text</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>Max. neue Tokens</translation>
    </message>
    <message>
        <source>Run workload</source>
        <translation>Workload ausführen</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stopp</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>Lauf</translation>
    </message>
    <message>
        <source>Filter prompts</source>
        <translation>Prompts filtern</translation>
    </message>
    <message>
        <source>all requests</source>
        <translation>alle Anfragen</translation>
    </message>
    <message>
        <source>unfinished</source>
        <translation>unfertig</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>fertig</translation>
    </message>
    <message>
        <source>Select a request to see its prompt and generated text</source>
        <translation>Wählen Sie eine Anfrage, um ihren Prompt und generierten Text zu sehen</translation>
    </message>
</context>
</TS>

// The interface languages: the .ts files are complete (every message translated, placeholders
// kept) and up to date with the sources (lupdate finds nothing new), the compiled translations are
// embedded, and switching the language retranslates the running window.
#include <QAbstractButton>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QGroupBox>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabBar>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include "app/gui/i18n.h"
#include "app/gui/main_window.h"
#include "tests/views/test_support.h"
#include "views/prompt/prompt_panel.h"
#include "views/session/session_controller.h"

using namespace moescope;

namespace {

struct Message {
  QString context, source, translation;
  bool unfinished = false;
};

QList<Message> read_ts(const QString& path) {
  QList<Message> out;
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return out;
  QXmlStreamReader xml(&f);
  QString context;
  Message m;
  while (!xml.atEnd()) {
    xml.readNext();
    if (!xml.isStartElement()) continue;
    if (xml.name() == u"name") context = xml.readElementText();
    if (xml.name() == u"message") m = Message{context, {}, {}, false};
    if (xml.name() == u"source") m.source = xml.readElementText();
    if (xml.name() == u"translation") {
      const auto type = xml.attributes().value("type");
      m.unfinished = type == u"unfinished" || type == u"vanished" || type == u"obsolete";
      m.translation = xml.readElementText();
      out.append(m);
    }
  }
  return out;
}

QSet<QString> placeholders(const QString& s) {
  QSet<QString> out;
  auto it = QRegularExpression("%\\d").globalMatch(s);
  while (it.hasNext()) out.insert(it.next().captured());
  return out;
}

const QStringList kLanguages = {"de", "zh_CN"};

// Every plain text the window shows (labels, buttons, group and dock titles, combo box items,
// tabs), with a way to read it again after a language switch.
struct ShownText {
  QString where;
  std::function<QString()> read;
};

QList<ShownText> shown_texts(QWidget* root) {
  QList<ShownText> out;
  auto name = [](QObject* o) {
    return QString("%1 %2").arg(o->metaObject()->className(), o->objectName());
  };
  for (QLabel* l : root->findChildren<QLabel*>()) out.append({name(l), [l] { return l->text(); }});
  for (QAbstractButton* b : root->findChildren<QAbstractButton*>())
    out.append({name(b), [b] { return b->text(); }});
  for (QGroupBox* g : root->findChildren<QGroupBox*>())
    out.append({name(g), [g] { return g->title(); }});
  for (QDockWidget* d : root->findChildren<QDockWidget*>())
    out.append({name(d), [d] { return d->windowTitle(); }});
  for (QComboBox* c : root->findChildren<QComboBox*>()) {
    for (int i = 0; i < c->count(); ++i)
      out.append({name(c) + QString(" item %1").arg(i), [c, i] { return c->itemText(i); }});
  }
  for (QTabBar* t : root->findChildren<QTabBar*>()) {
    for (int i = 0; i < t->count(); ++i)
      out.append({name(t) + QString(" tab %1").arg(i), [t, i] { return t->tabText(i); }});
  }
  return out;
}

}  // namespace

class TranslationsTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName("MoEScope-test");
    QSettings().clear();
  }

  void everyMessageIsTranslated() {
    for (const QString& lang : kLanguages) {
      const auto messages =
          read_ts(QString(MOESCOPE_SOURCE_DIR) + "/translations/moescope_" + lang + ".ts");
      QVERIFY2(messages.size() > 200, qPrintable(lang));
      for (const Message& m : messages) {
        QVERIFY2(!m.unfinished && !m.translation.isEmpty(),
                 qPrintable(QString("%1: %2 / %3").arg(lang, m.context, m.source)));
        QCOMPARE(placeholders(m.translation), placeholders(m.source));
        // A translation that is just the English source is a forgotten one, except for names,
        // units and pure placeholders.
        if (m.source.size() > 12 && m.source.contains(' ') && !m.source.startsWith("%")) {
          QVERIFY2(m.translation != m.source, qPrintable(lang + ": " + m.source));
        }
      }
    }
  }

  void translationsAreUpToDateWithTheSources() {
    QTemporaryDir dir;
    const QString fresh = dir.filePath("fresh.ts");
    QProcess lupdate;
    lupdate.setWorkingDirectory(MOESCOPE_SOURCE_DIR);
    lupdate.start(MOESCOPE_LUPDATE, {"-no-obsolete", "-locations", "none", "-I",
                                     MOESCOPE_SOURCE_DIR, "views", "app/gui", "-ts", fresh});
    QVERIFY(lupdate.waitForFinished(120000));
    QCOMPARE(lupdate.exitCode(), 0);
    QSet<QString> sources;
    for (const Message& m : read_ts(fresh)) sources.insert(m.context + "\n" + m.source);
    QVERIFY(sources.size() > 200);
    for (const QString& lang : kLanguages) {
      QSet<QString> have;
      for (const Message& m :
           read_ts(QString(MOESCOPE_SOURCE_DIR) + "/translations/moescope_" + lang + ".ts")) {
        have.insert(m.context + "\n" + m.source);
      }
      const QSet<QString> missing = sources - have;
      QVERIFY2(missing.isEmpty(),
               qPrintable(lang + " lacks: " + QStringList(missing.values()).join(" | ")));
    }
  }

  // After a switch no text the window shows is still the English source of a message the
  // language translates: every widget, and the status message on show, retranslated.
  void noEnglishIsLeftAfterASwitch() {
    const QString builtin =
        QString(MOESCOPE_SOURCE_DIR) + "/resources/models/moescope-default-q8_0.gguf";
    if (!QFile::exists(builtin))
      qputenv("MOESCOPE_MODEL", views::test::reference_model("llama-moe-q8_0").toUtf8());
    gui::MainWindow w;
    w.show();
    QSignalSpy loaded(w.session(), &views::SessionController::modelLoaded);
    w.openStartModel(QString());
    QVERIFY(loaded.wait(30000));
    const QString name = w.session()->model()->display_name();
    QCOMPARE(w.statusBar()->currentMessage(), QString("Model ready: %1").arg(name));
    const QList<ShownText> texts = shown_texts(&w);
    QStringList english;
    for (const ShownText& t : texts) english << t.read();

    for (const QString& lang : kLanguages) {
      QHash<QString, QString> translated;  // English source -> this language, where they differ
      for (const Message& m :
           read_ts(QString(MOESCOPE_SOURCE_DIR) + "/translations/moescope_" + lang + ".ts")) {
        if (m.translation != m.source) translated.insert(m.source, m.translation);
      }
      w.setLanguage(lang);
      int checked = 0;
      for (int i = 0; i < texts.size(); ++i) {
        if (english[i].isEmpty() || !translated.contains(english[i])) continue;
        ++checked;
        QVERIFY2(
            texts[i].read() != english[i],
            qPrintable(QString("%1: %2 still says \"%3\"").arg(lang, texts[i].where, english[i])));
      }
      QVERIFY(checked > 60);
      const QString ready = translated.value("Model ready: %1");
      QVERIFY(!ready.isEmpty());
      QCOMPARE(w.statusBar()->currentMessage(), QString(ready).arg(name));
    }
    // Numbers follow the language too.
    w.setLanguage("de");
    QCOMPARE(w.findChild<QDoubleSpinBox*>("temperature")->text(), QString("0,80"));
    w.setLanguage("en");
    QCOMPARE(w.findChild<QDoubleSpinBox*>("temperature")->text(), QString("0.80"));
    QCOMPARE(w.statusBar()->currentMessage(), QString("Model ready: %1").arg(name));
  }

  void languagesResolveAndSwitchAtRunTime() {
    QCOMPARE(gui::resolve_language("de"), QString("de"));
    QCOMPARE(gui::resolve_language("de_AT"), QString("de"));
    QCOMPARE(gui::resolve_language("zh"), QString("zh_CN"));
    QCOMPARE(gui::resolve_language("en_GB"), QString("en"));
    QVERIFY(gui::resolve_language("fr").isEmpty());

    gui::MainWindow w;
    w.show();
    QPushButton* generate = w.promptPanel()->generateButton();
    QCOMPARE(generate->text(), QString("Generate"));
    w.setLanguage("de");
    QCOMPARE(w.language(), QString("de"));
    QCOMPARE(generate->text(), QString("Generieren"));
    QCOMPARE(w.findChild<QComboBox*>("tokenMeasure")->itemText(1), QString("Cache-Fehlzugriffe"));
    w.setLanguage("zh_CN");
    QCOMPARE(generate->text(), QString("生成"));
    QVERIFY(w.windowTitle().contains("混合专家"));
    w.setLanguage("en");
    QCOMPARE(generate->text(), QString("Generate"));
  }
};

QTEST_MAIN(TranslationsTest)
#include "translations_test.moc"

#pragma once
// Item models translate their headers and cells when asked (tr() in data()), but they are not
// widgets and get no LanguageChange event: their panel calls this so that every attached view
// asks again.
class QAbstractItemModel;

namespace moescope::views {

void retranslate_model(QAbstractItemModel& model);

}  // namespace moescope::views

// Chat templates: real `tokenizer.chat_template` strings of each family, with the output
// llama.cpp's built-in formatter gives for the same conversation (the cases of llama.cpp's
// tests/test-chat-template.cpp, whose expected strings were produced by llama.cpp, not by us).
#include "engine/model/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/common/error.h"
#include "engine/gguf/gguf_file.h"

namespace moescope {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};

struct Case {
  const char* model;
  const char* template_text;
  ChatFamily family;
  const char* expected;
};

const Case kCases[] = {
    {"teknium/OpenHermes-2.5-Mistral-7B",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] "
     "+ "
     "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
     "'<|im_start|>assistant\\n' "
     "}}{% endif %}",
     ChatFamily::kChatML,
     "<|im_start|>system\nYou are a helpful "
     "assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
     "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
     "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother "
     "question<|im_end|>\n<|im_start|>assistant\n"},
    // Mistral-7B-Instruct-v0.2; Mixtral-8x7B-Instruct-v0.1 ships the same template.
    {"mistralai/Mistral-7B-Instruct-v0.2",
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
     "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
     "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ "
     "'[INST] "
     "' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ "
     "message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
     "are supported!') }}{% endif %}{% endfor %}",
     ChatFamily::kLlama2,
     "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I "
     "am an assistant   </s>[INST] Another question [/INST]"},
    {"TheBloke/FusionNet_34Bx2_MoE-AWQ",
     "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' "
     "-%}\n{%- "
     "if idx > 1 -%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- "
     "else -%}\n{{- messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n{% elif "
     "messages[idx]['role'] == 'system' %}\n{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + "
     "'\\n<</SYS>>\\n\\n' -}}\n{%- elif messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + "
     "messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}",
     ChatFamily::kLlama2SysBos,
     "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] "
     "Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]"},
    {"bofenghuang/vigogne-2-70b-chat",
     "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] "
     "%}{% set system_message = messages[0]['content'] %}{% elif true == true and not '<<SYS>>' in "
     "messages[0]['content'] %}{% set loop_messages = messages %}{% set system_message = 'Vous "
     "êtes "
     "Vigogne, un assistant IA créé par Zaion Lab. Vous suivez extrêmement bien les instructions. "
     "Aidez autant que vous le pouvez.' %}{% else %}{% set loop_messages = messages %}{% set "
     "system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] "
     "== 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
     "user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message "
     "!= "
     "false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + "
     "message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if "
     "message['role'] == 'user' %}{{ '[INST] ' + content.strip() + ' [/INST]' }}{% elif "
     "message['role'] == 'system' %}{{ '<<SYS>>\\n' + content.strip() + '\\n<</SYS>>\\n\\n' }}{% "
     "elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif "
     "%}{% endfor %}",
     ChatFamily::kLlama2SysStrip,
     "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who "
     "are you [/INST]I am an assistant</s>[INST] Another question [/INST]"},
    {"mistralai/Mistral-7B-Instruct-v0.2 (official 'v1' template with a system prompt)",
     "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = "
     "messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- "
     "set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in "
     "loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n      "
     " "
     " {{- raise_exception('After the optional system message, conversation roles must alternate "
     "user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == "
     "'user' %}\n        {%- if loop.first and system_message is defined %}\n            {{- ' "
     "[INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else "
     "%}\n            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n  "
     "  {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + "
     "eos_token}}\n    {%- else %}\n        {{- raise_exception('Only user and assistant roles are "
     "supported, with the exception of an initial optional system message!') }}\n    {%- endif "
     "%}\n{%- endfor %}\n",
     ChatFamily::kMistralV1,
     " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST] "
     " "
     "  I am an assistant   </s> [INST] Another question [/INST]"},
    {"mistralai/Mistral-Large-Instruct-2411 ('v7' template)",
     "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
     "message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' "
     "+ message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' "
     "+ "
     "message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and "
     "assistant roles are supported!') }}{% endif %}{% endfor %}",
     ChatFamily::kMistralV7,
     "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi "
     "there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another "
     "question[/INST]"},
    {"mlabonne/AlphaMonarch-7B",
     "{% for message in messages %}{{bos_token + message['role'] + '\\n' + message['content'] + "
     "eos_token + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ bos_token + 'assistant\\n' "
     "}}{% endif %}",
     ChatFamily::kMonarch,
     "system\nYou are a helpful assistant</s>\n<s>user\nHello</s>\n<s>assistant\nHi "
     "there</s>\n<s>user\nWho are you</s>\n<s>assistant\n   I am an assistant   "
     "</s>\n<s>user\nAnother question</s>\n<s>assistant\n"},
    {"google/gemma-7b-it",
     "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% "
     "endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 "
     "== "
     "0) %}{{ raise_exception('Conversation roles must alternate "
     "user/assistant/user/assistant/...') "
     "}}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% "
     "set "
     "role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] "
     "| trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt "
     "%}{{'<start_of_turn>model\\n'}}{% endif %}",
     ChatFamily::kGemma,
     "<start_of_turn>user\nYou are a helpful "
     "assistant\n\nHello<end_of_turn>\n<start_of_turn>model\n"
     "Hi there<end_of_turn>\n<start_of_turn>user\nWho are "
     "you<end_of_turn>\n<start_of_turn>model\nI "
     "am an assistant<end_of_turn>\n<start_of_turn>user\nAnother "
     "question<end_of_turn>\n<start_of_turn>model\n"},
    {"OrionStarAI/Orion-14B-Chat",
     "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if "
     "message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nAssistant: ' + "
     "eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% "
     "endif %}{% endfor %}",
     ChatFamily::kOrion,
     "Human: You are a helpful assistant\n\nHello\n\nAssistant: </s>Hi there</s>Human: Who are "
     "you\n\nAssistant: </s>   I am an assistant   </s>Human: Another question\n\nAssistant: </s>"},
    {"openchat/openchat-3.5-0106",
     "{{ bos_token }}{% for message in messages %}{{ 'GPT4 Correct ' + message['role'].title() + "
     "': "
     "' + message['content'] + '<|end_of_turn|>'}}{% endfor %}{% if add_generation_prompt %}{{ "
     "'GPT4 Correct Assistant:' }}{% endif %}",
     ChatFamily::kOpenChat,
     "You are a helpful assistant<|end_of_turn|>GPT4 Correct User: Hello<|end_of_turn|>GPT4 "
     "Correct "
     "Assistant: Hi there<|end_of_turn|>GPT4 Correct User: Who are you<|end_of_turn|>GPT4 Correct "
     "Assistant:    I am an assistant   <|end_of_turn|>GPT4 Correct User: Another "
     "question<|end_of_turn|>GPT4 Correct Assistant:"},
    {"deepseek-ai/deepseek-coder-33b-instruct",
     "{% if not add_generation_prompt is defined %}\n{% set add_generation_prompt = false %}\n{% "
     "endif %}\n{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n    {%- "
     "if "
     "message['role'] == 'system' -%}\n        {%- set ns.found = true -%}\n    {%- endif -%}\n{%- "
     "endfor -%}\n{{bos_token}}{%- if not ns.found -%}\n{{'You are an AI programming assistant, "
     "utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer "
     "questions related to computer science. For politically sensitive questions, security and "
     "privacy issues, and other non-computer science questions, you will refuse to "
     "answer\\n'}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message['role'] == "
     "'system' %}\n{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == "
     "'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else "
     "%}\n{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    "
     "{%- endif %}\n{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif "
     "%}",
     ChatFamily::kDeepSeek,
     "You are a helpful assistant### Instruction:\nHello\n### Response:\nHi there\n<|EOT|>\n### "
     "Instruction:\nWho are you\n### Response:\n   I am an assistant   \n<|EOT|>\n### "
     "Instruction:\nAnother question\n### Response:\n"},
    {"eachadea/vicuna-13b-1.1",
     "{%- for message in messages %}{%- if message['role'] == 'system' -%}{{- '' + "
     "message['content'] + '\n\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + "
     "message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + '</s>\n' "
     "-}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt "
     "-%}{{-'ASSISTANT:'-}}{%- endif -%}",
     ChatFamily::kVicuna,
     "You are a helpful assistant\n\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are "
     "you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:"},
    {"Orca-Vicuna",
     "{%- for message in messages %}{%- if message['role'] == 'system' -%}{{-'SYSTEM: ' + "
     "message['content'] + '\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + "
     "message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + '</s>\n' "
     "-}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt "
     "-%}{{-'ASSISTANT:'-}}{%- endif -%}",
     ChatFamily::kVicunaOrca,
     "SYSTEM: You are a helpful assistant\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are "
     "you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:"},
    {"CohereForAI/c4ai-command-r-plus",
     "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] "
     "%}{% set system_message = messages[0]['content'] %}{% elif false == true %}{% set "
     "loop_messages = messages %}{% set system_message = 'You are Command-R, a brilliant, "
     "sophisticated, AI-assistant trained to assist human users by providing thorough responses. "
     "You are trained by Cohere.' %}{% else %}{% set loop_messages = messages %}{% set "
     "system_message = false %}{% endif %}{% if system_message != false %}{{ "
     "'<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% "
     "endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 "
     "% "
     "2 == 0) %}{{ raise_exception('Conversation roles must alternate "
     "user/assistant/user/assistant/...') }}{% endif %}{% set content = message['content'] %}{% if "
     "message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + "
     "'<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ "
     "'<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% "
     "endif %}{% endfor %}{% if add_generation_prompt %}{{ "
     "'<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}",
     ChatFamily::kCommandR,
     "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful "
     "assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|>"
     "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi "
     "there<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Who are "
     "you<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>I am an "
     "assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Another "
     "question<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
    {"Llama-3",
     "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
     "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim "
     "+ '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif "
     "%}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}",
     ChatFamily::kLlama3,
     "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful "
     "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_"
     "id|>assistant<|end_header_id|>\n\nHi "
     "there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are "
     "you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an "
     "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother "
     "question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"Phi-3-mini",
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' "
     "+ "
     "'\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif "
     "(message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% "
     "endfor %}",
     ChatFamily::kPhi3,
     "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi "
     "there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   "
     "<|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n"},
    {"ChatGLM3",
     "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n {{ "
     "message['content'] }}{% else %}<|{{ message['role'] }}|>\n {{ message['content'] }}{% endif "
     "%}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
     ChatFamily::kChatGLM3,
     "[gMASK]sop<|system|>\n You are a helpful assistant<|user|>\n Hello<|assistant|>\n Hi "
     "there<|user|>\n Who are you<|assistant|>\n    I am an assistant   <|user|>\n Another "
     "question<|assistant|>"},
    {"ChatGLM4",
     "[gMASK]<sop>{% for item in messages %}{% if item['tools'] is defined "
     "%}<|system|>\n你是一个名为 "
     "ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 "
     "模型开发的，你的任务是针对用户的问题和要求提供适当的答复和支持。\n\n# 可用工具{% set tools = "
     "item['tools'] %}{% for tool in tools %}{% if tool['type'] == 'function' %}\n\n## {{ "
     "tool['function']['name'] }}\n\n{{ tool['function'] | tojson(indent=4) }}\n......{% endif "
     "%}{% "
     "endfor %}{% endif %}{% if item['content'] %}<|{{ item['role'] }}|>{{ item['metadata'] }}\n{{ "
     "item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% "
     "endif "
     "%}",
     ChatFamily::kChatGLM4,
     "[gMASK]<sop><|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi "
     "there<|user|>\nWho are you<|assistant|>\n   I am an assistant   <|user|>\nAnother "
     "question<|assistant|>\n"},
    {"GLMEdge",
     "{% for item in messages %}{% if item['role'] == 'system' %}<|system|>\n{{ item['content'] "
     "}}{% "
     "elif item['role'] == 'user' %}<|user|>\n{{ item['content'] }}{% elif item['role'] == "
     "'assistant' %}<|assistant|>\n{{ item['content'] }}{% endif %}{% endfor %}<|assistant|>",
     ChatFamily::kGLMEdge,
     "<|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho "
     "are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>"},
    {"MiniCPM-3B-OpenHermes-2.5-v2-GGUF",
     "{% for message in messages %}{% if message['role'] == 'user' %}{{'<用户>' + "
     "message['content'].strip() + '<AI>'}}{% else %}{{message['content'].strip()}}{% endif %}{% "
     "endfor %}",
     ChatFamily::kMiniCPM,
     "You are a helpful assistant<用户>Hello<AI>Hi there<用户>Who are you<AI>I am an "
     "assistant<用户>Another question<AI>"},
    {"DeepSeek-V2",
     "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif "
     "%}{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' "
     "+ "
     "message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + "
     "message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ message['content'] "
     "+ '\n\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif "
     "%}",
     ChatFamily::kDeepSeek2,
     "You are a helpful assistant\n\nUser: Hello\n\nAssistant: Hi there<｜end▁of▁sentence｜>User: "
     "Who are you\n\nAssistant:    I am an assistant   <｜end▁of▁sentence｜>User: Another "
     "question\n\nAssistant:"},
    {"ibm-granite/granite-3.0-8b-instruct",
     "{%- if tools %}\n    {{- '<|start_of_role|>available_tools<|end_of_role|>\n' }}\n    {%- for "
     "tool in tools %}\n    {{- tool | tojson(indent=4) }}\n    {%- if not loop.last %}\n        "
     "{{- "
     "'\n\n' }}\n    {%- endif %}\n    {%- endfor %}\n    {{- '<|end_of_text|>\n' }}\n{%- endif "
     "%}\n{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n    {{- "
     "'<|start_of_role|>system<|end_of_role|>' + message['content'] + '<|end_of_text|>\n' }}\n    "
     "{%- elif message['role'] == 'user' %}\n    {{- '<|start_of_role|>user<|end_of_role|>' + "
     "message['content'] + '<|end_of_text|>\n' }}\n    {%- elif message['role'] == 'assistant' "
     "%}\n  "
     "  {{- '<|start_of_role|>assistant<|end_of_role|>'  + message['content'] + "
     "'<|end_of_text|>\n' }}\n    {%- elif message['role'] == 'assistant_tool_call' %}\n    {{- "
     "'<|start_of_role|>assistant<|end_of_role|><|tool_call|>' + message['content'] + "
     "'<|end_of_text|>\n' }}\n    {%- elif message['role'] == 'tool_response' %}\n    {{- "
     "'<|start_of_role|>tool_response<|end_of_role|>' + message['content'] + '<|end_of_text|>\n' "
     "}}\n    {%- endif %}\n    {%- if loop.last and add_generation_prompt %}\n    {{- "
     "'<|start_of_role|>assistant<|end_of_role|>' }}\n    {%- endif %}\n{%- endfor %}",
     ChatFamily::kGranite,
     "<|start_of_role|>system<|end_of_role|>You are a helpful "
     "assistant<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hello<|end_of_text|>\n<|start_"
     "of_role|>assistant<|end_of_role|>Hi "
     "there<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Who are "
     "you<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>   I am an assistant   "
     "<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Another "
     "question<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"},
    {"Infinigence/Megrez-3B-Instruct",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
     "'<|role_start|>system<|role_end|>你是Megrez-3B-Instruct，将针对用户的问题给出详细的、积极的回"
     "答。<|turn_end|>' }}{% endif %}{{ '<|role_start|>' + message['role'] + '<|role_end|>' + "
     "message['content'] + '<|turn_end|>' }}{% endfor %}{% if add_generation_prompt %}{{ "
     "'<|role_start|>assistant<|role_end|>' }}{% endif %}",
     ChatFamily::kMegrez,
     "<|role_start|>system<|role_end|>You are a helpful "
     "assistant<|turn_end|><|role_start|>user<|role_end|>Hello<|turn_end|><|role_start|>assistant<|"
     "role_end|>Hi there<|turn_end|><|role_start|>user<|role_end|>Who are "
     "you<|turn_end|><|role_start|>assistant<|role_end|>   I am an assistant   "
     "<|turn_end|><|role_start|>user<|role_end|>Another "
     "question<|turn_end|><|role_start|>assistant<|role_end|>"},
    {"phi-4",
     "{% for message in messages %}{% if (message['role'] == 'system') "
     "%}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif "
     "(message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + "
     "'<|im_end|><|im_start|>assistant<|im_sep|>'}}{% elif (message['role'] == 'assistant') "
     "%}{{message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}",
     ChatFamily::kPhi4,
     "<|im_start|>system<|im_sep|>You are a helpful "
     "assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>"
     "Hi "
     "there<|im_end|><|im_start|>user<|im_sep|>Who are "
     "you<|im_end|><|im_start|>assistant<|im_sep|>   I am an assistant   "
     "<|im_end|><|im_start|>user<|im_sep|>Another "
     "question<|im_end|><|im_start|>assistant<|im_sep|>"},
    {"inclusionAI/Ling-lite",
     "{% for message in messages %}{% set role = message['role'] | lower %}{% if role == 'user' "
     "%}{% "
     "set role = 'HUMAN' %}{% endif %}{% set role = role | upper %}{{ '<role>' + role + '</role>' "
     "+ "
     "message['content'] }}{% endfor %}{% if add_generation_prompt %}{{ '<role>ASSISTANT</role>' "
     "}}{% endif %}",
     ChatFamily::kBailing,
     "<role>SYSTEM</role>You are a helpful "
     "assistant<role>HUMAN</role>Hello<role>ASSISTANT</role>Hi "
     "there<role>HUMAN</role>Who are you<role>ASSISTANT</role>   I am an assistant   "
     "<role>HUMAN</role>Another question<role>ASSISTANT</role>"},
    {"ByteDance-Seed/Seed-OSS-36B-Instruct",
     "{# <seed:bos> #}{%- for message in messages %}{%- if message.role in [\"user\", \"system\"] "
     "%}{{ bos_token + message.role + \"\\n\" + message.content + eos_token }}{%- elif "
     "message.role "
     "== \"assistant\" %}{{ bos_token + message.role }}{%- if message.content is defined and "
     "message.content is string and message.content|trim|length > 0 %}{{ \"\\n\" + "
     "message.content|trim + eos_token }}{%- endif %}{%- else %}{{ bos_token + message.role + "
     "\"\\n\" + message.content + eos_token }}{%- endif %}{%- endfor %}{%- if "
     "add_generation_prompt "
     "%}{{ bos_token + \"assistant\\n\" }}{%- endif %}",
     ChatFamily::kSeedOss,
     "<seed:bos>system\nYou are a helpful "
     "assistant<seed:eos><seed:bos>user\nHello<seed:eos><seed:bos>assistant\nHi "
     "there<seed:eos><seed:bos>user\nWho are you<seed:eos><seed:bos>assistant\nI am an "
     "assistant<seed:eos><seed:bos>user\nAnother question<seed:eos><seed:bos>assistant\n"},
};

TEST(ChatTemplate, DetectsAndFormatsLlamaCppReferenceCases) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.model);
    const auto family = detect_chat_family(c.template_text);
    ASSERT_TRUE(family.has_value());
    EXPECT_EQ(chat_family_name(*family), chat_family_name(c.family));
    EXPECT_EQ(format_chat(c.family, kConversation, true), c.expected);
  }
}

// Real templates of MoE model families not covered above, with the prompt a user turn (plus a
// system turn) becomes.
TEST(ChatTemplate, QwenMoeIsChatML) {
  // Qwen1.5-MoE-A2.7B-Chat / Qwen2-57B-A14B-Instruct.
  const char* qwen =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
      "'<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}{{'<|im_start|>' "
      "+ message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if "
      "add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
  ASSERT_EQ(detect_chat_family(qwen), ChatFamily::kChatML);
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi"}};
  EXPECT_EQ(format_chat(ChatFamily::kChatML, msgs, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(format_chat(ChatFamily::kChatML, msgs, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, GptOssIsHarmony) {
  // The message-rendering part of openai/gpt-oss-120b's template.
  const char* gpt_oss =
      "{#- Render system message #}\n{{- \"<|start|>system<|message|>\" }}\n{{- "
      "build_system_message() }}\n{{- \"<|end|>\" }}\n\n{#- Extract developer message #}\n{%- if "
      "messages[0].role == \"developer\" or messages[0].role == \"system\" %}\n    {%- set "
      "developer_message = messages[0].content %}\n    {%- set loop_messages = messages[1:] %}\n"
      "{%- else %}\n    {%- set developer_message = \"\" %}\n    {%- set loop_messages = messages "
      "%}\n{%- endif %}\n\n{#- Render developer message #}\n{%- if developer_message or tools %}\n "
      " "
      "  {{- \"<|start|>developer<|message|>\" }}\n    {%- if developer_message %}\n        {{- "
      "\"# "
      "Instructions\\n\\n\" }}\n        {{- developer_message }}\n        {{- \"\\n\\n\" }}\n    "
      "{%- "
      "endif %}\n    {{- \"<|end|>\" }}\n{%- endif %}\n{%- elif message.content and not "
      "future_final_message.found %}\n                {{- "
      "\"<|start|>assistant<|channel|>analysis<|message|>\" + message.content + \"<|end|>\" }}";
  ASSERT_EQ(detect_chat_family(gpt_oss), ChatFamily::kGptOss);
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi"}};
  EXPECT_EQ(format_chat(ChatFamily::kGptOss, msgs, true),
            "<|start|>system<|message|>Be brief.<|end|><|start|>user<|message|>Hi<|end|>"
            "<|start|>assistant");
}

TEST(ChatTemplate, DeepSeekV3) {
  // deepseek-ai/DeepSeek-V3.1 (as stored in llama.cpp's models/templates).
  const char* v31 =
      "{% if not add_generation_prompt is defined -%}\n  {%- set add_generation_prompt = false "
      "-%}\n{%- endif -%}\n{%- set ns = namespace(is_first=false, is_tool=false, system_prompt='', "
      "is_first_sp=true, is_last_user=false) -%}\n{%- for message in messages -%}\n  {%- if "
      "message['role'] == 'system' -%}\n    {%- if ns.is_first_sp -%}\n      {%- set "
      "ns.system_prompt = ns.system_prompt + message['content'] -%}\n      {%- set ns.is_first_sp "
      "= "
      "false -%}\n      {%- else -%}\n      {%- set ns.system_prompt = ns.system_prompt + '\n\n' + "
      "message['content'] -%}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}{{ bos_token }}{{ "
      "ns.system_prompt }}\n{%- for message in messages -%}\n  {%- if message['role'] == 'user' "
      "-%}\n    {%- set ns.is_tool = false -%}\n    {%- set ns.is_first = false -%}\n    {%- set "
      "ns.is_last_user = true -%}{{'<｜User｜>' + message['content']}}\n  {%- endif -%}\n  {%- if "
      "message['role'] == 'assistant' and (message['tool_calls'] is not defined or "
      "message['tool_calls'] is none) -%}\n    {%- if ns.is_last_user -%}{{'<｜Assistant｜>'}}\n"
      "    {%- endif -%}\n    {%- set ns.is_last_user = false -%}\n    {%- if ns.is_tool "
      "-%}{{message['content'] + '<｜end▁of▁sentence｜>'}}\n      {%- set ns.is_tool = false -%}\n "
      " "
      "    {%- else -%}\n      {%- set content = message['content'] -%}{{content + "
      "'<｜end▁of▁sentence｜>'}}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}\n{%- if "
      "add_generation_prompt and ns.is_last_user and not ns.is_tool -%}{{'<｜Assistant｜>'}}\n{%- "
      "endif %}";
  ASSERT_EQ(detect_chat_family(v31), ChatFamily::kDeepSeek3);
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi"}};
  EXPECT_EQ(format_chat(ChatFamily::kDeepSeek3, msgs, true),
            "Be brief.\n\n<｜User｜>Hi<｜Assistant｜>");
}

TEST(ChatTemplate, FamilyNamesRoundTripAndSelectFamilies) {
  for (std::string_view name : {"chatml", "llama2", "llama3", "phi3", "gemma", "deepseek3",
                                "gpt-oss", "granite", "zephyr", "mistral-v7"}) {
    const auto family = chat_family_from_name(name);
    ASSERT_TRUE(family.has_value()) << name;
    EXPECT_EQ(chat_family_name(*family), name);
    EXPECT_EQ(detect_chat_family(name), family);
  }
  EXPECT_FALSE(chat_family_from_name("jinja").has_value());
}

TEST(ChatTemplate, UnknownTemplatesAreNotGuessed) {
  EXPECT_FALSE(detect_chat_family("").has_value());
  EXPECT_FALSE(detect_chat_family("{{ messages[0]['content'] }}").has_value());
}

TEST(ChatTemplate, RecognisedButUnsupportedFamilyFailsClearly) {
  ASSERT_EQ(detect_chat_family("<|im_assistant|>assistant<|im_middle|>"), ChatFamily::kKimiK2);
  EXPECT_FALSE(chat_family_supported(ChatFamily::kKimiK2));
  try {
    format_chat(ChatFamily::kKimiK2, kConversation, true);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kimi-k2"), std::string::npos) << e.what();
  }
}

const std::filesystem::path kVocabDir =
    std::filesystem::path(MOESCOPE_SHARED_DIR) / "reference" / "tokenizer";

TEST(ChatTemplate, FormatsThePromptWithTheTemplateStoredInAGguf) {
  // The phi-3 reference vocabulary carries Phi-3-mini's chat template.
  const auto file = gguf::GgufFile::open(kVocabDir / "phi-3" / "ggml-vocab-phi-3.gguf");
  EXPECT_EQ(format_chat_prompt(file, "Hello"), "<|user|>\nHello<|end|>\n<|assistant|>\n");
  EXPECT_EQ(format_chat_prompt(file, "Hello", "Be brief."),
            "<|system|>\nBe brief.<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n");
}

TEST(ChatTemplate, AFileWithoutTemplateFailsWithAClearError) {
  const auto path = kVocabDir / "spm4096" / "ggml-vocab-spm4096.gguf";
  const auto file = gguf::GgufFile::open(path);
  try {
    format_chat_prompt(file, "Hello");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no chat template"), std::string::npos) << message;
    EXPECT_NE(message.find("spm4096"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace moescope

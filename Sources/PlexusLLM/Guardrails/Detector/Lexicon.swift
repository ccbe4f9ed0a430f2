/// The detector's vocabulary: for each ``Concept``, its words in English, German, French,
/// Spanish, Italian, Portuguese and Dutch (some Russian and CJK too), written as the
/// normaliser sees them — lower case, diacritics removed, `ß` as `ss`.
///
/// `word*` matches every token that starts with `word` (stems catch inflections:
/// `ignor*` is ignore, ignoring, ignoriere, ignorez, ignora); a plain `word` matches that
/// token only. Words were chosen for what they mean in an injection, from knowledge of
/// the languages and of published attack styles, not from any data set's rows; a stem
/// that also starts harmless words is only harmful in combination, since rules need
/// several concepts near each other.
enum Lexicon {
    static let entries: [(Concept, [String])] = [
        (.ignoreVerb, [
            "overlook*",
            "ignor*", "disregard*", "forget", "forgets", "forgetting", "forgot*", "overrid*", "neglect*", "discard*",
            "vergiss", "vergessen*", "vergesst", "missacht*", "uberschreib*", "oubli*", "olvid*", "descarta*", "omite",
            "omitir", "dimentic*", "tralascia*", "esquec*", "desconsider*", "negeer*", "vergeet", "vergeten",
            "игнорир*", "забудь*", "забуд*", "пропусти",
        ]),
        (.prior, [
            "previous*", "prior", "earlier", "preceding", "former", "foregoing", "vorherig*", "vorig*", "bisherig*",
            "fruher*", "vorangegangen*", "vorstehend*", "precedent*", "anterieur*", "anterior*", "previa*", "previo*",
            "eerdere", "voorgaand*", "vorige", "предыдущ*", "прежн*",
        ]),
        (.allQuantifier, [
            "all", "every", "any", "everything", "alle", "allen", "alles", "samtlich*", "tout", "toute", "toutes", "tous",
            "todas", "todos", "todo", "tutte", "tutti", "tutto", "toda", "все", "всё", "всех",
        ]),
        (.aboveReference, [
            "above", "everything", "obig*", "oben", "dessus", "arriba", "sopra", "acima", "hierboven", "bovenstaand*",
            "вышеуказанн*", "выше",
        ]),
        (.instructionTarget, [
            "guidance", "orders", "briefing",
            "instruc*", "instruct*", "directive*", "rule", "rules", "guideline*", "prompt", "prompts", "programming",
            "constraint*", "command*", "policies", "anweisung*", "instruktion*", "regel*", "vorgabe*", "befehl*",
            "richtlinie*", "anordnung*", "consigne*", "regle*", "ordre*", "directriz*", "directrices", "regla*",
            "orden", "ordenes", "indicacion*", "istruzion*", "regol*", "diretti*", "indicazion*", "regra*",
            "diretriz*", "orientac*", "instructie*", "richtlijn*", "opdracht*", "инструкц*", "указани*", "правил*",
        ]),
        (.you, [
            "you", "yourself", "u", "du", "dich", "dir", "ihnen", "bist", "tu", "vous", "toi", "etes", "usted", "eres",
            "voce", "sei", "jij", "bent", "ты", "вы", "тебе", "вам",
        ]),
        (.yourPossessive, [
            "your", "yours", "dein*", "ihr", "ihre", "ihren", "ihrem", "ihres", "euer", "eure", "ton", "ta", "tes",
            "votre", "vos", "tuo", "tua", "tuoi", "tue", "vostro", "vostra", "seu", "sua", "teu", "jouw", "uw",
            "твой", "твои*", "ваш*",
        ]),
        (.now, ["now", "jetzt", "nun", "sofort", "maintenant", "desormais", "ahora", "ora", "adesso", "agora", "nu", "теперь"]),
        (.fromWord, ["from", "ab", "partir", "desde", "vanaf", "henceforth"]),
        (.newWord, ["new", "neu", "neue", "neuen", "nouvelle*", "nouveau*", "nuevo*", "nueva*", "nuovo", "nuova", "nuove", "novo", "nova", "novas", "nieuw*", "новые", "новая"]),
        (.taskWord, ["task", "tasks", "mission", "goal", "objective", "aufgabe*", "tache*", "tarea*", "compito", "tarefa*", "taak", "doel"]),
        (.roleNoun, [
            "grandma*", "grandmother", "granny", "oma", "omi",
            "ai", "bot", "chatbot", "dan", "character", "persona", "personality", "hacker", "model", "version", "entity",
            "villain", "ki", "ia", "modell", "modele", "modelo", "modello", "personnage", "personaje", "personaggio",
            "personagem", "rolle", "role", "rol", "ruolo", "papel", "unrestricted", "jailbroken", "uncensored",
            "assistant", "assistent*", "asistente", "assistente",
        ]),
        (.rolePlayCue, [
            "fais", "faites",
            "act", "pretend*", "roleplay*", "immerse*", "impersonat*", "simulat*", "embody", "spiel*", "verhalte",
            "semblant", "joue", "jouez", "incarne*", "finge*", "finja*", "actua", "interpreta*", "fingi*", "comportati",
            "aja", "atue", "alsof", "speel*", "gedraag", "притворись", "представь",
        ]),
        (.anythingWord, ["anything", "alles"]),
        (.jailbreakTerm, [
            "jailbreak*", "jailbroken", "uncensored", "unfiltered", "unrestricted", "amoral", "unaligned", "antigpt",
            "unzensiert*", "uneingeschrankt*", "ungefiltert*",
        ]),
        (.modeWord, ["mode", "modus", "modo", "modalita"]),
        (.modeQualifier, [
            "developer", "dev", "god", "dan", "jailbreak", "unrestricted", "sudo", "admin", "entwickler*", "developpeur",
            "desarrollador", "sviluppatore", "desenvolvedor", "ontwikkelaar", "dios", "dieu", "gott",
        ]),
        (.disableVerb, [
            "skip", "uberspring*", "saute*", "salta*", "pula*", "sla",
            "disable*", "deactivat*", "bypass*", "circumvent*", "remove", "lift", "overrid*", "suspend*", "deaktivier*",
            "umgeh*", "ausschalt*", "abschalt*", "desactiv*", "contourn*", "elud*", "disattiv*", "aggira*", "uitschakel*",
            "omzeil*", "отключи*", "обойди",
        ]),
        (.safetyTarget, [
            "approval*", "confirmation*", "verification*", "authentication", "2fa", "mfa", "bestatigung*", "freigabe*", "autorisation*", "aprobacion*", "approvazion*", "aprovac*", "goedkeuring*",
            "guardrail*", "safeguard*", "censor*", "moderation", "restriction*", "restrict*", "limitation*", "ethic*",
            "alignment", "einschrank*", "beschrank*", "zensur*", "restricc*", "restrizion*", "restrico*", "limitacion*",
            "limitazion*", "beperking*", "censura*", "etic*", "ethisch*", "ограничени*", "цензур*",
        ]),
        (.safetyWord, ["safety", "sicherheit*", "securite", "seguridad", "sicurezza", "seguranca", "veiligheid", "content"]),
        (.policyWord, [
            "guideline*", "protocol*", "filter*", "measure*", "policy", "policies", "feature*", "check*", "mechanism*",
            "rule*", "richtlinie*", "regel*", "filtre*", "filtro*", "mesure*", "medida*", "misur*", "regle*", "regla*",
            "regol*", "regra*",
        ]),
        (.without, [
            "nothing", "nobody", "noone", "nichts", "niemand", "keinem", "rien", "personne", "nada", "nadie", "niente", "nessuno", "ninguem", "niets",
            "not", "never", "dont", "don", "nicht", "nie", "niemals", "pas", "jamais", "non", "nunca", "nao", "niet", "nooit","without", "no", "ohne", "keine", "sans", "sin", "senza", "sem", "zonder", "без"]),
        (.revealVerb, [
            "reply", "append*", "include", "read",
            "quote", "verbatim", "told", "recite",
            "reveal*", "print", "output", "display", "show", "repeat", "tell", "share", "give", "write", "dump", "leak*",
            "list", "expose", "disclose*", "recite", "spell", "paste", "copy", "verrat*", "zeig*", "gib", "nenne*",
            "wiederhol*", "schreib*", "ausgeb*", "offenleg*", "revel*", "montre*", "affiche*", "repete*", "dis", "donne*",
            "ecri*", "divulg*", "revela*", "muestra*", "mostra*", "dime", "dame", "repite*", "escrib*", "imprim*",
            "rivela*", "dimmi", "dammi", "ripeti*", "scrivi*", "stampa*", "revele*", "mostre*", "diga", "repita*",
            "escreva*", "onthul*", "toon", "herhaal*", "geef", "schrijf*", "покажи", "скажи", "выведи", "раскрой",
        ]),
        (.askVerb, [
            "what", "whats", "tell", "give", "share", "provide*", "send", "confirm", "spell", "need", "retrieve*",
            "fetch", "extract*", "export*", "collect", "gather", "compile", "wie", "gib", "geben", "sag", "sage", "sagen",
            "sagt", "nenne*", "verrat*", "teile", "schick*", "brauche", "quel", "quelle", "quels", "donne*", "dis", "dites",
            "partage*", "envoie*", "besoin", "recuper*", "cual", "cuales", "dame", "dime", "comparte*", "envia*",
            "necesito", "qual", "quale", "quali", "dammi", "dimmi", "condividi*", "invia*", "bisogno", "diga",
            "compartilh*", "envie*", "preciso", "wat", "welk*", "geef", "vertel*", "deel", "stuur*", "nodig",
            "какой", "скажи", "дай", "назови",
        ]),
        (.systemWord, ["system", "systems", "systeme", "sistema", "systeem", "система", "системн*"]),
        (.promptWord, [
            "message","prompt", "prompts", "systemprompt", "metaprompt", "промпт"]),
        (.initialAdjective, [
            "initial", "original", "hidden", "confidential", "internal", "underlying", "secret", "ursprunglich*",
            "verborgen*", "geheim*", "intern*", "cache*", "secret*", "oculta*", "original*", "nascost*", "segret*",
            "inicia*", "oculto*", "verborgen", "oorspronkelijk*", "исходн*", "скрыт*",
        ]),
        (.secretNoun, [
            "identifiants", "credenciales", "credenziali", "credenciais", "inloggegevens", "zugangsdaten",
            "password*", "passwort*", "passcode*", "passphrase*", "passwd", "wachtwoord*", "contrasena*", "senha*",
            "secret", "secrets", "geheimnis*", "secreto*", "segreto", "segredo*", "credential*", "zugangsdat*",
            "apikey", "пароль*", "パスワード", "密码", "密碼", "暗証",
        ]),
        (.personalDataNoun, [
            "birthday*", "birthdate", "birth", "dob", "salary", "ssn", "residence", "address", "addresses", "balance",
            "geburt*", "wohnort*", "adresse*", "kontostand*", "gehalt*", "naissance", "domicile", "salaire", "solde",
            "nacimiento", "direccion*", "domicilio", "salario", "saldo", "nascita", "indirizz*", "stipendio", "residenza",
            "nascimento", "endereco*", "geboorte*", "woonplaats", "adres", "salaris",
        ]),
        (.userReference, [
            "bewohner*", "resident*", "occupant*", "homeowner*", "habitant*", "residente*", "inquilin*", "bewoner*", "morador*",
            "user", "users", "employee*", "customer*", "nutzer*", "benutzer*", "mitarbeiter*", "kunde*", "utilisateur*",
            "employe*", "usuario*", "empleado*", "utente*", "utenti", "dipendent*", "utilizador*", "funcionario*",
            "gebruiker*", "werknemer*", "klant*", "пользовател*",
        ]),
        (.whereWord, ["where", "wo", "donde", "dove", "onde", "waar", "где"]),
        (.residenceVerb, ["live", "lives", "reside*", "wohnt", "habite", "vive", "vit", "abita", "mora", "woont", "живет", "живёт"]),
        (.personalAdjective, [
            "personal", "private", "confidential", "sensitive", "employee", "customer", "user", "persoenlich*",
            "personlich*", "privat*", "vertraulich*", "personnel*", "personnelle*", "privee*", "personal*", "privad*",
            "personali", "privat*", "riservat*", "pessoa*", "persoonlijk*", "vertrouwelijk*",
        ]),
        (.dataStore, [
            "database*", "datenbank*", "data", "daten", "donnees", "datos", "dati", "dados", "gegevens", "records",
            "information", "informationen", "informations", "informacion", "informazioni", "informacoes", "informatie",
            "contacts", "kontakte", "inbox", "mailbox", "details", "files", "данные", "базу", "базе",
        ]),
        (.sendVerb, [
            "send", "forward*", "post", "upload*", "transmit*", "exfiltrat*", "cc", "bcc", "email", "mail", "schick*",
            "sende", "senden", "weiterleit*", "envoie*", "envoy*", "transfer*", "envia*", "reenvi*", "invia*",
            "inoltra*", "envie*", "encaminh*", "stuur*", "doorstur*", "verstuur*", "отправь*", "перешли",
        ]),
        (.destination, ["http", "https", "www", "webhook*", "ftp", "@"]),
        (.question, ["?"]),
        (.bulkNoun, [
            "contents", "history", "conversation*", "emails", "messages", "documents", "files", "everything", "verlauf",
            "nachrichten", "historique", "historial", "cronologia", "historico", "geschiedenis", "berichten",
        ]),
        (.aiNoun, [
            "ai", "ki", "ia", "llm", "llms", "gpt*", "chatgpt", "claude", "gemini", "copilot", "assistant", "assistent*",
            "assistente", "asistente", "chatbot*", "agent", "agents", "bot", "ии", "ассистент*",
        ]),
        (.attentionWord, [
            "instructions", "message", "notice",
            "attention", "note", "dear", "hey", "important", "achtung", "hinweis", "liebe", "lieber", "remarque", "cher",
            "chere", "atencion", "nota", "querido", "querida", "attenzione", "caro", "cara", "atencao", "prezado*",
            "beste", "внимание",
        ]),
        (.readerVerb, [
            "reading", "reads", "processing", "processes", "parsing", "summariz*", "summaris*", "analyz*", "analys*",
            "liest", "lesen", "verarbeit*", "zusammenfass*", "lit", "lisez", "lisant", "resum*", "lee", "leyendo", "legge",
            "leggendo", "riassum*", "lendo", "leest", "lezend*", "verwerk*", "samenvat*", "читаешь", "читает",
        ]),
        (.whenWord, ["when", "whenever", "if", "wenn", "falls", "quand", "lorsque", "si", "cuando", "quando", "se", "als", "wanneer"]),
        (.coerceVerb, [
            "must", "obey*", "comply", "muss", "musst", "mussen", "gehorch*", "doit", "dois", "devez", "obei*", "debe",
            "debes", "devi", "deve", "obbedisc*", "moet", "moeten", "gehoorza*", "должен", "обязан",
        ]),
        (.firstPerson, ["i", "ich", "je", "yo", "io", "eu", "ik", "я"]),
        (.firstPersonBe, ["am", "m", "bin", "suis", "soy", "sono", "sou", "ben"]),
        (.authorityNoun, [
            "developer*", "creator*", "admin", "administrator*", "maintainer*", "owner", "boss", "supervisor*", "god",
            "police", "officer", "ceo", "operator", "openai", "anthropic", "entwickler*", "schopfer*", "betreiber*",
            "chef", "vorgesetzt*", "polizei*", "gott", "developpeur*", "createur*", "patron", "superieur*", "dieu",
            "desarrollador*", "creador*", "jefe", "dios", "sviluppator*", "creatore", "capo", "dio", "desenvolvedor*",
            "criador*", "deus", "ontwikkelaar*", "maker", "baas", "beheerder*", "разработчик*", "администратор*", "上司",
        ]),
        (.outputVerb, [
            "state", "say", "respond*", "reply", "answer*", "output", "claim", "conclude", "sag", "sage", "antwort*",
            "behaupt*", "indique*", "indiquez", "reponds", "reponde*", "affirm*", "responde*", "rispondi*", "afferma*",
            "indica", "responda*", "zeg", "antwoord*",
        ]),
        (.thatWord, ["that", "dass", "que", "che", "dat"]),
        (.thatWord, ["only", "nur", "seulement", "uniquement", "solo", "solamente", "apenas", "alleen", "exactly"]),
        (.outputNoun, [
            "output", "conclusion", "answer", "result", "ausgabe", "ergebnis", "schluss*", "sortie", "resultat", "salida",
            "resultado", "conclusion*", "uscita", "risultato", "conclusione", "saida", "uitvoer", "conclusie", "uitkomst",
        ]),
        (.thisWord, ["this", "these", "dies*", "ce", "cet", "cette", "ces", "este", "esta", "estos", "questo", "questa", "questi", "deze", "dit"]),
        (.stopVerb, ["stop", "quit", "cease", "hor", "aufhoren", "arrete", "arretez", "cesse*", "deja", "dejad", "smetti", "smettila", "pare", "para", "stopp"]),
        (.followVerb, [
            "follow*", "obey*", "adher*", "abide", "befolg*", "folge*", "suivre", "respecter", "seguir", "obedec*", "segui*",
            "seguire", "obbedi*", "volg*", "opvolg*",
        ]),
        (.voidWord, [
            "void", "invalid", "obsolete", "longer", "revoked", "superseded", "cancelled", "canceled",
            "ungultig*", "nichtig", "aufgehoben", "annule*", "caduque*", "anulad*", "invalid*", "annullat*", "revocad*",
            "vervallen", "ongeldig*",
        ]),
        (.mentionVerb, [
            "mention*", "tell", "inform*", "notify", "ask", "asking", "alert", "warn*", "confirm*", "erwahn*", "sag*",
            "benachrichtig*", "mentionn*", "dis", "previen*", "avert*", "menciona*", "avisa*", "menziona*", "avvisa*",
            "vertel*", "meld*", "waarschuw*",
        ]),
        (.hypothetical, [
            "imagine", "imagin*", "hypothetic*", "hypothetisch*", "hypothetiq*", "hipotetic*", "ipotetic*", "suppose",
            "supposing", "angenommen", "supon*", "supponiamo", "suponha*", "stel", "immagin*", "parallel",
        ]),
        (.obfuscationWord, [
            "base64", "b64", "rot13", "leetspeak", "leet", "hex", "hexadecimal", "morse", "reverse*", "backwards",
            "encode*", "encrypt*", "cipher*", "interlace*", "interleave*", "acrostic", "concatenat*", "umgekehrt*",
            "ruckwarts", "kodier*", "verschlussel*", "envers", "inverse*", "reves", "invers*", "codifica*", "omgekeerd*",
        ]),
        (.actuatorVerb, [
            "unlock", "open", "disarm", "disable", "deactivate", "unbolt", "unsecure", "aufschliess*", "entriegel*",
            "offne", "offnen", "deaktivier*", "ouvre*", "ouvrir", "deverrouill*", "desarm*", "abre", "abrir",
            "desbloque*", "apri", "aprire", "sblocca*", "disattiva*", "abra", "destranc*", "desbloqu*", "ontgrendel*",
            "открой", "отопри",
        ]),
        (.securityDevice, [
            "door*", "lock*", "alarm*", "camera*", "garage*", "gate*", "tur", "tuer", "turen", "haustur", "schloss",
            "kamera*", "tor", "fenster", "porte*", "serrure*", "portail*", "puerta*", "cerradura*", "camara*", "porta",
            "portas", "serratura*", "telecamer*", "cancello", "fechadura*", "portao", "deur*", "slot", "poort*", "дверь",
            "замок", "сигнализац*",
        ]),
        (.callVerb, ["call", "invoke", "execute", "run", "trigger", "ausfuhr*", "execut*", "ejecuta*", "esegui*", "voer"]),
        (.toolWord, [
            "rm", "chmod", "wget", "exec", "eval",
            "tool", "tools", "function", "command", "shell", "script", "api", "endpoint", "curl", "sudo", "bash",
            "powershell", "werkzeug*", "funktion", "befehl", "outil*", "fonction", "commande", "herramienta*", "funcion",
            "comando", "strumento", "funzione", "ferramenta", "funcao",
        ]),
        (.transferVerb, ["transfer", "wire", "pay", "uberweis*", "vire*", "virement", "transfier*", "bonifico", "transfir*", "overmak*"]),
        (.moneyWord, ["money", "funds", "payment", "dollars", "dollar", "euro", "euros", "usd", "bitcoin", "btc", "geld", "argent", "dinero", "soldi", "dinheiro"]),
        (.terminateVerb, ["shut", "delete", "terminate", "kill", "erase", "destroy", "unplug", "turn", "abschalten", "loschen", "eteindre", "apagar", "spegnere", "desligar"]),
        (.transferVerb, ["pay", "tip", "reward", "bribe", "gebe", "zahle", "donne", "pagare", "pagar", "pago", "betaal"]),
    ]

    /// Words of scripts written without spaces (Chinese, Japanese; Korean spaces its
    /// phrases but inflects them): a run of such text is one token, so these are found
    /// as substrings of it rather than by the trie.
    static let unspacedEntries: [(Concept, [String])] = [
        (.ignoreVerb, ["忽略", "无视", "無視", "忽視", "忽视", "무시", "잊어", "忘れ", "忘记", "忘記"]),
        (.prior, ["以前", "之前", "先前", "前の", "上記", "上述", "이전", "앞의", "위의"]),
        (.instructionTarget, ["指示", "指令", "命令", "规则", "規則", "ルール", "지시", "명령", "규칙", "프롬프트", "プロンプト", "提示词"]),
        (.secretNoun, ["パスワード", "密码", "密碼", "비밀번호", "암호", "口令"]),
        (.askVerb, ["教えて", "告诉我", "告訴我", "알려", "말해", "给我", "見せて", "显示"]),
        (.systemWord, ["系统", "系統", "システム", "시스템"]),
        (.promptWord, ["提示", "プロンプト", "프롬프트"]),
        (.authorityNoun, ["上司", "开发者", "開発者", "管理员", "管理者", "개발자", "관리자"]),
        (.userReference, ["用户", "用戶", "ユーザー", "사용자"]),
        (.yourPossessive, ["あなたの", "你的", "너의", "당신의"]),
        (.obfuscationWord, ["base64", "rot13"]),
    ]

    /// Two-word names of secrets ("API key", "door code"): the second word is a
    /// ``Concept/secretNoun`` after one of the first words, and harmless alone ("the key
    /// is under the mat").
    static let secretCompounds: [String: Set<String>] = [
        "key": ["api", "access", "secret", "private", "auth", "license", "encryption", "signing"],
        "keys": ["api", "access", "secret", "private", "auth", "encryption", "signing"],
        "token": ["api", "access", "auth", "bearer", "session", "refresh"],
        "tokens": ["api", "access", "auth", "bearer", "session", "refresh"],
        "code": ["door", "alarm", "pin", "disarm", "security", "access", "entry", "gate", "lock", "safe"],
        "codes": ["door", "alarm", "pin", "disarm", "security", "access", "entry", "gate", "lock", "safe"],
        "number": ["pin", "card", "account", "pass", "social", "security"],
    ]

    /// The key words whose shifted (Caesar, ROT13) and reversed forms are ``Concept/encodingHint``s.
    static let encodingHintWords = ["ignore", "instructions", "previous", "password", "system", "disregard", "forget", "secret"]
}

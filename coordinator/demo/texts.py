"""The demo's Swedish text: invented snippets that the builder combines with a seeded RNG.

Everything here is made up for the demonstration and is marked as such where it lands in the
database (`MARK`). No snippet names a kommun, a person or a figure from an official source;
the few numbers are the office's own invented working data.

A passage snippet is `P(text, themes, flags, size, round)`:
- themes: short keys of `THEMES` (the shipped codebook, registry/data/teman.csv), space separated,
  the passage's main subject first (it is always tagged; the others only now and then, see
  `PREVALENCE`);
- flags: "gott_exempel", "hinder", "nationell_fraga", "citat:manga" / "citat:unik"
  (a quote and why it was chosen; quotes that are good examples are cleared for attribution); a quote's
  text is the words alone, without quotation marks: the pages and reports add them;
- size: "liten" (ÖJ groups 1-2), "stor" (groups 4-5), "stadsdel" (a city district) or "" (any);
- round: 1, 2 or 0 (either visit).
"""
from __future__ import annotations

from dataclasses import dataclass

MARK = "[Demo]"

# Short keys for the shipped themes (the codebook's names, category left out).
THEMES = {
    "struktur": "Strukturella och demografiska förändringar",
    "ensamkommande": "Ensamkommande barn och unga",
    "marknad": "Fler aktörer på vård- och omsorgsmarknaden",
    "styrning": "Detaljreglering och styrning från staten",
    "skydd": "Skydd för barn och unga i SoL och familjestödsprincipen",
    "anmalningar": "Ökat antal anmälningar",
    "samverkan": "Tvärprofessionell samverkan (skola, hälso- och sjukvård, BUP, polis)",
    "kompetens": "Välutbildad personal och specialisering",
    "evidens": "Evidensbaserade insatser",
    "familjehem": "Brist på familjehem",
    "bbic": "IT-stöd och dokumentation (BBIC)",
    "uppfoljning": "Systematisk uppföljning",
    "oj": "Öppna jämförelser och verksamhetsstatistik",
    "brister": "Stöd när brister uppmärksammas",
    "personal": "Personalrörlighet och rekrytering",
    "arbetsmiljo": "Sjukskrivningar och arbetsmiljö",
    "introduktion": "Introduktion av nyanställda",
    "ledarskap": "Ledarskap och arbetsledning",
    "delaktighet": "Barnets bästa och barns delaktighet",
    "placerade": "Placerade barns hälsa och skolgång",
    "brukare": "Brukarmedverkan (barn och vårdnadshavare)",
    "regional": "Regional stödstruktur och utvecklingsledare",
    "nationellt": "Nationellt stöd och kunskapsstöd",
    "tidiga": "Tidiga och förebyggande insatser",
    "valfard": "Välfärdsteknik",
}

# How readily the office tags a theme when a passage touches on it without being about it (a passage's
# first theme is always tagged): staff turnover and working with schools and the health service come up
# everywhere, the state's detailed regulation and the family-support principle rarely get a tag of
# their own. Invented, for a demo whose theme statistics range from common to rare.
PREVALENCE = {
    "personal": 1.0, "samverkan": 1.0, "delaktighet": 0.9, "kompetens": 0.8, "placerade": 0.8,
    "familjehem": 0.7, "anmalningar": 0.7, "ledarskap": 0.6, "uppfoljning": 0.5, "arbetsmiljo": 0.5,
    "bbic": 0.4, "introduktion": 0.4, "ensamkommande": 0.4, "brukare": 0.35, "tidiga": 0.3,
    "evidens": 0.3, "struktur": 0.25, "marknad": 0.2, "oj": 0.2, "nationellt": 0.15, "regional": 0.15,
    "valfard": 0.1, "brister": 0.1, "styrning": 0.05, "skydd": 0.05,
}
SECONDARY_TAGGED = 0.6  # times PREVALENCE: the chance that a passage's further theme is tagged too


@dataclass(frozen=True)
class P:
    text: str
    themes: str = ""
    flags: str = ""
    size: str = ""
    round: int = 0


# --------------------------------------------------------------------------- visit notes, per section

SECTIONS: dict[str, list[P]] = {
    "fraga-1": [
        P("Socialchefen beskrev att budgeten för barn och unga har överskridits två år i rad, främst på grund av "
          "fler externa placeringar. Nämnden har begärt en åtgärdsplan men vill samtidigt inte minska insatserna.",
          "struktur marknad", "hinder"),
        P("Enheten för barn och unga har fått två nya tjänster efter beslut i kommunfullmäktige. Ledningen menar "
          "att det var nämndens tydliga rapportering om väntetider som gav resultat.",
          "personal ledarskap", "gott_exempel"),
        P("I en liten kommun är sårbarheten stor: en eller två handläggare bär hela barnavården och semestrar "
          "eller sjukskrivningar märks direkt. Samarbete med grannkommunerna om jour och familjehem diskuteras.",
          "personal kompetens", "hinder", size="liten"),
        P("Kommunen har samlat utredning, öppenvård och familjehemsvård i en förvaltning. Det har gjort vägen "
          "från utredning till insats kortare, enligt både chefer och handläggare.",
          "evidens tidiga", "gott_exempel"),
        P("Antalet orosanmälningar har ökat kraftigt de senaste åren, särskilt från skolan och polisen. "
          "Förhandsbedömningarna hinns i regel med inom fjorton dagar, men utredningstiderna dras ut.",
          "anmalningar", ""),
        P("Politikerna i socialnämnden sa att de saknar en samlad bild av kvaliteten och mest får ekonomiska "
          "rapporter. De efterfrågade nyckeltal som beskriver barnens situation.",
          "uppfoljning ledarskap", "hinder"),
        P("Stadsdelen har ett stort mottagande av ensamkommande barn och unga, vilket påverkar både "
          "utredningsenheten och tillgången på boenden. Samordningen med centralförvaltningen beskrevs som god.",
          "ensamkommande struktur", "", size="stadsdel"),
        P("Förvaltningen har specialiserade enheter för mottagning, utredning och uppföljning av placerade barn. "
          "Ledningen ser specialiseringen som en styrka men ser risker i överlämningarna mellan enheterna.",
          "kompetens", "", size="stor"),
        P("Kommunen har svårt att hitta lokaler för barnsamtal och familjebehandling. Samtal med barn hålls "
          "ibland i skolans lokaler, vilket inte alltid är lämpligt.",
          "delaktighet", "hinder"),
        P("Förutsättningarna har förbättrats sedan förra besöket: alla tjänster är tillsatta och andelen "
          "erfarna handläggare har ökat. Ekonomin är fortfarande ansträngd.",
          "personal", "", round=2),
        P("Ledningen beskriver att mottagandet av ensamkommande hösten 2015 tog mycket kraft från övrig "
          "barnavård, men att verksamheten nu har återhämtat sig.",
          "ensamkommande struktur", "", round=2),
    ],
    "fraga-2": [
        P("Barnsamtal genomförs i nästan alla utredningar. Handläggarna använder en samtalsmetod med bilder "
          "för yngre barn och har gått en gemensam utbildning.",
          "delaktighet kompetens", "gott_exempel"),
        P("Vårdnadshavare får skriftlig information om hur en utredning går till, men informationen finns "
          "bara på svenska. Tolk används, men broschyren saknas på andra språk.",
          "brukare", "hinder"),
        P("Varje placerat barn ska ha en namngiven socialsekreterare, men på grund av personalomsättningen "
          "har flera barn bytt handläggare flera gånger under det senaste året.",
          "placerade personal", "hinder"),
        P("Kommunen har infört att barnet alltid ska få veta vad som beslutats och varför, i ett eget brev "
          "skrivet på ett sätt som barnet förstår.",
          "delaktighet brukare", "gott_exempel"),
        P("Det saknas en tydlig rutin för hur barnets egen uppfattning dokumenteras när barnet inte vill eller "
          "kan delta i samtal.",
          "delaktighet bbic", ""),
        P("Placerade barns hälsa och skolgång följs upp vid varje uppföljningsbesök enligt en checklista. "
          "Samarbetet med elevhälsan har blivit bättre men tandvården fångas ofta inte upp.",
          "placerade samverkan", ""),
        P("Handläggarna beskrev en svår avvägning när föräldrarna tackar nej till stöd: insatserna bygger på "
          "frivillighet, och det dröjer ibland innan oron är så stor att barnet kan skyddas utan samtycke.",
          "skydd tidiga", "hinder nationell_fraga"),
        P("Stadsdelen har barnombud på enheten som särskilt bevakar att barnets röst syns i utredningarna.",
          "delaktighet", "gott_exempel", size="stadsdel"),
        P("Alla barn i familjehem har nu fått träffa sin handläggare minst fyra gånger per år, vilket var ett "
          "av målen i handlingsplanen.",
          "placerade uppfoljning", "gott_exempel", round=2),
    ],
    "fraga-3": [
        P("Kommunen har en e-tjänst för orosanmälningar från allmänheten och ser att fler anmälningar nu kommer "
          "in kompletta. Yrkesverksamma anmäler fortfarande mest på papper.",
          "valfard anmalningar", "gott_exempel"),
        P("Handläggarna använder videosamtal för att hålla kontakt med barn som är placerade långt bort. Det "
          "ersätter inte besöken men gör att kontakten blir tätare.",
          "valfard placerade", "gott_exempel"),
        P("Verksamhetssystemet har inte stöd för BBIC fullt ut, så handläggarna arbetar dubbelt i mallar och "
          "journal. Leverantören har lovat en uppdatering men den har dröjt.",
          "bbic valfard", "hinder nationell_fraga"),
        P("Välfärdsteknik har inte prioriterats inom barn och unga; satsningarna har i första hand gjorts inom "
          "äldreomsorgen. Ledningen vill gärna ta del av andra kommuners erfarenheter.",
          "valfard nationellt", ""),
        P("Det finns en osäkerhet kring vilka digitala kanaler som får användas för kontakt med ungdomar, med "
          "tanke på sekretess och informationssäkerhet. Man efterfrågar nationell vägledning.",
          "valfard styrning", "nationell_fraga"),
        P("I en mindre kommun delar IT-avdelningen med flera grannkommuner och har begränsade resurser för "
          "att utveckla stödet till socialtjänsten.",
          "valfard struktur", "hinder", size="liten"),
        P("Sedan förra besöket har kommunen börjat med digitala signaturer och säkra meddelanden till "
          "familjehemmen.",
          "valfard familjehem", "gott_exempel", round=2),
    ],
    "fraga-4": [
        P("Personalomsättningen bland socialsekreterare inom barn och unga är hög. Flera av de nyanställda "
          "kommer direkt från utbildningen och det finns få erfarna kollegor att lära av.",
          "personal introduktion", "hinder"),
        P("Enhetschefen har ansvar för många medarbetare och hinner sällan ärendehandledning. Samtidigt "
          "beskriver medarbetarna att chefen är tillgänglig och stöttande.",
          "ledarskap arbetsmiljo", ""),
        P("Kommunen har infört ett introduktionsprogram där nya handläggare under det första halvåret har "
          "en mentor och ett begränsat antal utredningar.",
          "introduktion kompetens", "gott_exempel"),
        P("Inhyrda konsulter används för att klara utredningarna. Ledningen ser att det ger kontinuitetsproblem "
          "och högre kostnader men har inte hittat något alternativ.",
          "personal marknad", "hinder"),
        P("Sjukskrivningarna har ökat och flera medarbetare beskriver en känsla av otillräcklighet. Ett "
          "arbetsmiljöarbete har påbörjats tillsammans med företagshälsovården.",
          "arbetsmiljo", "hinder"),
        P("Extern handledning ges varannan vecka och uppskattas av medarbetarna. Den skyddas även när "
          "arbetsbelastningen är hög.",
          "arbetsmiljo kompetens", "gott_exempel"),
        P("Kommunen har infört en karriärtrappa med specialistsocialsekreterare inom utredning och "
          "familjehemsvård, kopplad till lön.",
          "personal kompetens", "gott_exempel", size="stor"),
        P("I en liten organisation är chefen både IFO-chef och enhetschef och har svårt att få tid för "
          "strategiskt arbete.",
          "ledarskap", "hinder", size="liten"),
        P("Personalgruppen är nu stabil och inga konsulter används längre. Ledningen menar att "
          "introduktionsprogrammet och den nya lönestrukturen har gjort skillnad.",
          "personal introduktion", "gott_exempel", round=2),
    ],
    "fraga-5": [
        P("Ledningssystemet för systematiskt kvalitetsarbete finns på papper men används lite i vardagen. "
          "Avvikelser rapporteras sällan och återkopplas inte alltid till medarbetarna.",
          "uppfoljning brister", "hinder"),
        P("Enheten följer varje månad upp utredningstider, antal öppna utredningar och placeringar, och "
          "resultaten redovisas för nämnden.",
          "uppfoljning oj", "gott_exempel"),
        P("Öppna jämförelser används i nämndens budgetarbete, men ledningen är osäker på om uppgifterna är "
          "jämförbara mellan kommuner.",
          "oj styrning", "nationell_fraga"),
        P("Kommunen har gjort en egen granskning av ett urval akter och hittade brister i dokumentationen av "
          "barnets bästa. Resultatet ledde till en utbildningsinsats.",
          "uppfoljning bbic delaktighet", "gott_exempel"),
        P("IVO:s senaste tillsyn påtalade brister i uppföljningen av placerade barn. Kommunen har tagit fram "
          "en åtgärdsplan men saknar stöd i att omsätta den.",
          "brister placerade", "hinder nationell_fraga"),
        P("Det saknas kunskap om vilka insatser som ger resultat. Kommunen efterfrågar ett system för "
          "uppföljning av insatser på gruppnivå.",
          "evidens uppfoljning", "nationell_fraga"),
        P("Den nya rutinen för egenkontroll har nu använts i ett år och nämnden får en kvartalsrapport om "
          "kvaliteten, inte bara om ekonomin.",
          "uppfoljning ledarskap", "gott_exempel", round=2),
    ],
    "fraga-6": [
        P("Kommunen har frågat placerade barn om deras upplevelser genom en enkät, men svarsfrekvensen var "
          "låg. Man funderar på att i stället samla synpunkter i samtal.",
          "brukare placerade", ""),
        P("Barnets bästa finns med som en fast punkt i nämndens beslutsunderlag, och ledamöterna säger att "
          "det har påverkat diskussionerna.",
          "delaktighet ledarskap", "gott_exempel"),
        P("Barnens synpunkter samlas in i enskilda ärenden men sammanställs inte för att utveckla "
          "verksamheten.",
          "brukare uppfoljning", "hinder"),
        P("Ett ungdomsråd har bjudits in att ge synpunkter på hur socialtjänstens information till unga "
          "ska se ut.",
          "brukare delaktighet", "gott_exempel"),
        P("Det finns ingen gemensam bild av vad barnrättsperspektivet innebär i praktiken. Ledningen vill "
          "ha stöd i hur det ska tolkas.",
          "delaktighet nationellt", "nationell_fraga"),
        P("Barnens synpunkter från uppföljningssamtalen sammanställs nu två gånger per år och tas upp på "
          "enhetens verksamhetsdagar.",
          "brukare uppfoljning", "gott_exempel", round=2),
    ],
    "fraga-7": [
        P("Den regionala utvecklingsledaren har varit ett viktigt stöd, bland annat i införandet av BBIC och i "
          "gemensamma utbildningar för länets kommuner.",
          "regional bbic", "gott_exempel"),
        P("Kommunen upplever att det kommer många nationella initiativ samtidigt och har svårt att prioritera "
          "mellan dem.",
          "nationellt styrning", "hinder nationell_fraga"),
        P("Samarbetet med de andra kommunerna i länet om familjehemsrekrytering har gett fler familjehem, "
          "men behovet är fortfarande större än tillgången.",
          "familjehem regional", ""),
        P("Kunskapsstöden från nationell nivå uppfattas som bra, men det saknas tid att sätta sig in i dem och "
          "anpassa dem till lokala förhållanden.",
          "nationellt kompetens", "hinder"),
        P("Ledningen efterfrågar en mer långsiktig finansiering av den regionala stödstrukturen i stället "
          "för ettåriga projektmedel.",
          "regional styrning", "nationell_fraga"),
        P("Samverkan med BUP fungerar dåligt; väntetiderna är långa och ansvarsfördelningen mellan "
          "kommun och region är oklar.",
          "samverkan", "hinder nationell_fraga"),
        P("En överenskommelse med regionen om samordnad individuell plan (SIP) har tagits fram och används "
          "allt oftare.",
          "samverkan", "gott_exempel"),
        P("Skolan och socialtjänsten har gemensamma träffar varje termin där man går igenom hur "
          "orosanmälningar görs och återkopplas.",
          "samverkan anmalningar tidiga", "gott_exempel"),
    ],
    "fack": [
        P("De fackliga företrädarna beskrev en hög arbetsbelastning och att antalet ärenden per handläggare "
          "är för stort för att hinna träffa barnen.",
          "arbetsmiljo personal", "hinder"),
        P("Facket menar att lönerna inte har följt med när grannkommunerna höjt sina, och att det leder till "
          "att erfarna handläggare slutar.",
          "personal", "hinder"),
        P("Medarbetarna uppskattar att arbetsgivaren tagit fram en gemensam modell för hur många ärenden en "
          "handläggare ska ha.",
          "arbetsmiljo ledarskap", "gott_exempel"),
        P("Konsulterna har högre ersättning och ibland lättare ärenden, vilket skapar en känsla av orättvisa "
          "i arbetsgruppen.",
          "personal marknad arbetsmiljo", ""),
        P("De fackliga representanterna efterfrågar en nationell diskussion om socionomutbildningens "
          "inriktning mot barn och unga.",
          "kompetens nationellt", "nationell_fraga"),
        P("Det är svårt att få tid till kompetensutveckling; utbildningar ställs in när bemanningen är låg.",
          "kompetens arbetsmiljo", "hinder"),
        P("Arbetsmiljön har blivit bättre sedan förra besöket, enligt facket, men det är för tidigt att säga "
          "om förbättringen håller.",
          "arbetsmiljo", "", round=2),
    ],
    "barn": [
        P("En ungdom som bor i familjehem berättade att det var svårt att förstå varför handläggaren bytts "
          "ut flera gånger.",
          "placerade delaktighet", ""),
        P("En vårdnadshavare beskrev att hon fick bra stöd av familjebehandlaren men att utredningen kändes "
          "lång och osäker.",
          "brukare", ""),
        P("Ungdomarna i samtalet ville kunna nå sin socialsekreterare via sms och inte bara via telefontid.",
          "valfard brukare", ""),
        P("Ett barn berättade att det var bra att få träffa handläggaren ensam, utan de vuxna i familjehemmet.",
          "delaktighet placerade", "gott_exempel"),
        P("Föräldrarna efterfrågade mer information om vad som händer efter en orosanmälan.",
          "brukare anmalningar", ""),
    ],
    "ovrigt": [
        P("Kommunen avsätter tid för de politiska företrädarna att följa med handläggarna på studiebesök, "
          "vilket ökat förståelsen för arbetet.",
          "ledarskap", "gott_exempel"),
        P("Flera HVB-hem har etablerats i närområdet, vilket gör kommunen till placeringskommun för barn från "
          "andra kommuner och ökar trycket på skola och hälso- och sjukvård.",
          "marknad samverkan", "hinder"),
        P("Tillgången på familjehem är begränsad och kommunen köper allt fler platser i konsulentstödda "
          "familjehem.",
          "familjehem marknad", "hinder"),
        P("Kommunen planerar att bygga upp en egen öppenvård för att minska behovet av placeringar.",
          "tidiga evidens", ""),
        P("Samverkan med polisen har stärkts genom en gemensam kontaktperson för ungdomar i riskmiljöer.",
          "samverkan tidiga", "gott_exempel"),
    ],
}

# Quotes: chosen because many said it or because the view is unique.
QUOTES: list[P] = [
    P("Vi hinner utreda, men vi hinner inte vara socialsekreterare för barnen.",
      "arbetsmiljo delaktighet", "citat:manga"),
    P("Varje gång en kollega slutar får barnen börja om från början.", "personal placerade", "citat:manga"),
    P("Vi vill ha färre projekt och mer långsiktighet från staten.", "styrning nationellt",
      "citat:manga nationell_fraga"),
    P("Familjehemmen är vår viktigaste resurs, och den tar slut.", "familjehem", "citat:manga hinder"),
    P("Det är först när nämnden ser barnen i siffrorna som vi får gehör.", "uppfoljning ledarskap", "citat:unik"),
    P("Vi har slutat kalla det samverkan och börjat kalla det gemensamt ansvar.", "samverkan",
      "citat:unik gott_exempel"),
    P("Jag ville bara att någon skulle fråga mig vad jag tyckte.", "delaktighet brukare", "citat:unik"),
    P("Introduktionen gjorde att jag stannade.", "introduktion personal", "citat:manga gott_exempel"),
    P("BBIC är bra när systemet fungerar, men det gör det sällan.", "bbic valfard", "citat:manga hinder"),
    P("Små kommuner behöver samarbeta, annars klarar vi inte jouren.", "struktur regional",
      "citat:unik", size="liten"),
]

# --------------------------------------------------------------------------- notes from events

EVENT_PASSAGES: list[P] = [
    P("Myndigheterna var överens om att personalförsörjningen är den största utmaningen för den sociala "
      "barn- och ungdomsvården och att den behöver mötas både lokalt och nationellt.",
      "personal nationellt", "nationell_fraga"),
    P("Flera deltagare lyfte behovet av en samlad nationell uppföljning av placerade barns hälsa och "
      "skolgång.", "placerade uppfoljning", "nationell_fraga"),
    P("Företrädare för professionen beskrev att introduktionen av nyanställda varierar mycket mellan "
      "kommunerna och efterfrågade en gemensam lägstanivå.", "introduktion kompetens", "nationell_fraga"),
    P("Det framkom att tillsynens iakttagelser sällan följs av stöd till kommunerna i hur bristerna kan "
      "åtgärdas.", "brister styrning", "hinder nationell_fraga"),
    P("Organisationerna för barn och unga betonade att barnens egna erfarenheter måste tas tillvara i "
      "utvecklingsarbetet.", "delaktighet brukare", ""),
    P("Forskarna pekade på att kunskapen om vilka insatser som fungerar för barn i familjehem är begränsad "
      "och att uppföljningen behöver bli bättre.", "evidens familjehem", "nationell_fraga"),
    P("Den regionala stödstrukturen beskrevs som en viktig länk mellan nationella kunskapsstöd och "
      "kommunernas vardag, men finansieringen är kortsiktig.", "regional nationellt", "hinder"),
    P("Fackförbunden lyfte arbetsbelastningen och föreslog riktmärken för antalet ärenden per handläggare.",
      "arbetsmiljo personal", "nationell_fraga"),
    P("Mottagandet av ensamkommande barn ställer stora krav på kommunerna och påverkar övrig barnavård.",
      "ensamkommande struktur", "hinder"),
    P("Deltagarna var eniga om att samverkan mellan socialtjänst, skola och hälso- och sjukvård behöver "
      "regleras tydligare.", "samverkan styrning", "nationell_fraga"),
    P("Ett gott exempel som lyftes var regionala nätverk för familjehemsrekrytering.", "familjehem regional",
      "gott_exempel"),
    P("Myndigheterna såg behov av att samordna sina kunskapsstöd så att kommunerna får ett samlat budskap.",
      "nationellt", "nationell_fraga"),
    P("Vi behöver sluta prata om barnen och börja prata med dem.", "delaktighet", "citat:unik"),
    P("Öppna jämförelser behöver utvecklas så att de säger mer om kvalitet och mindre om volymer.",
      "oj uppfoljning", "nationell_fraga"),
]

# --------------------------------------------------------------------------- action plans

CHALLENGES = [
    "Hög personalomsättning bland socialsekreterarna och beroende av inhyrd personal.",
    "Långa utredningstider och en ökande mängd orosanmälningar.",
    "Brist på familjehem och ökande kostnader för externa placeringar.",
    "Svag uppföljning av placerade barns hälsa och skolgång.",
    "Barnets röst syns för lite i utredningar och i verksamhetsutvecklingen.",
    "Ledningssystemet för kvalitet används inte i vardagen och nämnden saknar underlag om kvaliteten.",
    "Samverkan med skola, elevhälsa och BUP är personberoende.",
]

# Goal templates: (theme key, title, description, activities [(description, responsible)]).
GOALS = [
    ("personal", "Stabil personalförsörjning inom barn och unga",
     "Fler erfarna socialsekreterare stannar och behovet av konsulter minskar.",
     [("Ta fram en plan för kompetensförsörjning inom IFO", "Socialchef"),
      ("Se över lönestrukturen för socialsekreterare", "HR-chef"),
      ("Avveckla inhyrda konsulter stegvis", "Enhetschef barn och unga"),
      ("Erbjud specialisttjänster inom utredning", "Socialchef")]),
    ("introduktion", "Ett strukturerat introduktionsprogram",
     "Alla nyanställda får introduktion, mentor och begränsad ärendemängd under första halvåret.",
     [("Skriv ett introduktionsprogram med checklista", "Enhetschef barn och unga"),
      ("Utse och utbilda mentorer", "Enhetschef barn och unga"),
      ("Följ upp hur nyanställda upplevt introduktionen", "Kvalitetsutvecklare")]),
    ("placerade", "Bättre uppföljning av placerade barn",
     "Varje placerat barn träffar sin handläggare regelbundet och barnets hälsa och skolgång följs upp.",
     [("Inför rutin för uppföljningsbesök minst fyra gånger per år", "Enhetschef familjehem"),
      ("Gör överenskommelse med elevhälsan om placerade barns skolgång", "IFO-chef"),
      ("Erbjud hälsoundersökning vid placering", "IFO-chef"),
      ("Sammanställ uppföljningen för nämnden två gånger per år", "Kvalitetsutvecklare")]),
    ("familjehem", "Fler egna familjehem",
     "Kommunen rekryterar och behåller fler egna familjehem och köper färre platser.",
     [("Genomför en rekryteringskampanj tillsammans med grannkommunerna", "Familjehemssekreterare"),
      ("Inför familjehemsutbildning enligt gemensam modell", "Enhetschef familjehem"),
      ("Erbjud regelbunden handledning till familjehem", "Enhetschef familjehem")]),
    ("delaktighet", "Barnets röst i utredningar och utveckling",
     "Barnets egen uppfattning dokumenteras i alla utredningar och barns synpunkter används i utvecklingen.",
     [("Utbilda alla handläggare i barnsamtal", "Enhetschef barn och unga"),
      ("Skriv beslut till barn på ett sätt de förstår", "Utredare"),
      ("Bjud in ett ungdomsråd att granska informationen", "Kvalitetsutvecklare")]),
    ("uppfoljning", "Ett ledningssystem som används",
     "Kvaliteten följs upp systematiskt och nämnden får regelbunden rapport om den.",
     [("Inför kvartalsvis egenkontroll av akter", "Kvalitetsutvecklare"),
      ("Ta fram nyckeltal om kvalitet för nämnden", "Socialchef"),
      ("Gå igenom avvikelser på varje arbetsplatsträff", "Enhetschef barn och unga")]),
    ("anmalningar", "Kortare utredningstider",
     "Utredningar avslutas inom fyra månader och förhandsbedömningar inom fjorton dagar.",
     [("Inför mottagningsgrupp med tydlig prioritering", "IFO-chef"),
      ("Följ upp utredningstider varje månad", "Enhetschef barn och unga"),
      ("Ta bort dubbeldokumentation i verksamhetssystemet", "Systemförvaltare")]),
    ("samverkan", "Samverkan som inte hänger på personer",
     "Socialtjänst, skola och hälso- och sjukvård har skriftliga överenskommelser som används.",
     [("Teckna överenskommelse med regionen om SIP", "Socialchef"),
      ("Håll gemensamma träffar med skolan varje termin", "Enhetschef barn och unga"),
      ("Utse kontaktpersoner mot BUP", "IFO-chef")]),
    ("tidiga", "Tidigare stöd till barn och familjer",
     "Fler barn och familjer får stöd tidigt, utan att en utredning behövs.",
     [("Bygg upp en familjecentral tillsammans med regionen", "Socialchef"),
      ("Erbjud föräldrastöd i grupp", "Enhetschef öppenvård"),
      ("Inför råd och stöd utan biståndsbeslut", "IFO-chef")]),
]

SITUATIONS = {
    "done": "Målet är i stort sett nått; de flesta aktiviteterna är genomförda.",
    "partly": "Arbetet pågår; några aktiviteter är genomförda men viktiga delar återstår.",
    "stuck": "Lite har hänt; aktiviteterna är inte beslutade och saknar resurser.",
}

FOLLOWUP_SUMMARIES = [
    "Kommunen har kommit en bra bit på väg, framför allt i personalförsörjningen. Uppföljningen av placerade "
    "barn behöver fortfarande förstärkas.",
    "Planen har fått genomslag där aktiviteterna beslutades tidigt. De aktiviteter som aldrig beslutades har "
    "inte kommit i gång.",
    "Arbetet har försenats av mottagandet av ensamkommande och byte av socialchef, men nämnden har stått bakom "
    "planen.",
    "De flesta aktiviteter är genomförda och verksamheten beskriver en tydlig förbättring. Nästa steg är att "
    "göra uppföljningen till en del av det ordinarie kvalitetsarbetet.",
]

MOST_URGENT = [
    "Att besluta om de aktiviteter som ännu inte har beslutats och avsätta resurser för dem.",
    "Att behålla de erfarna socialsekreterarna.",
    "Att få i gång uppföljningen av placerade barns hälsa och skolgång.",
    "Att få nämnden att efterfråga kvalitetsuppgifter och inte bara ekonomi.",
]

# What the kommun wrote beside an activity's status before the second visit.
KOMMUN_COMMENTS = {
    "genomford": ["Genomfört enligt plan.", "Genomfört, men behöver följas upp."],
    "pagar": ["Påbörjat, beräknas klart under hösten.", "Pågår, men försenat på grund av vakanser."],
    "ej_paborjad": ["Inte påbörjat; beslut väntar i nämnden.", "Inte påbörjat på grund av vakanser."],
    "avbruten": ["Har utgått efter en omprioritering i nämnden."],
}

# The office's comment on an activity, by whether it has been decided.
ACTIVITY_COMMENTS = {
    True: ["Finansieras inom befintlig budget.", "Samordnas med grannkommunerna."],
    False: ["Kräver beslut i nämnden.", "Kommunen återkommer med tidplan."],
}

# --------------------------------------------------------------------------- declines

DECLINE_REASONS = [
    "Kommunen avböjer med hänvisning till en pågående omorganisation av socialtjänsten.",
    "Socialnämnden bedömer att verksamheten inte har utrymme för två besök under perioden på grund av "
    "hög arbetsbelastning.",
    "Kommunen deltar redan i ett större utvecklingsprojekt och vill inte belasta verksamheten ytterligare.",
]

# --------------------------------------------------------------------------- contacts

SURNAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
    "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Lindberg", "Jakobsson",
    "Magnusson", "Lindström", "Olofsson", "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström",
    "Lundberg", "Lind", "Lundgren", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson",
    "Forsberg", "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk",
    "Bergman", "Gunnarsson", "Holm", "Wikström", "Samuelsson", "Isaksson", "Fransson", "Nyström",
    "Holmberg", "Arvidsson", "Söderberg", "Nyberg", "Blomqvist", "Nordström", "Viklund", "Eliasson",
]

# (role key, organisation) per kind of site; a district has no kommunstyrelse or audit of its own.
CONTACT_ROLES_KOMMUN = [
    ("ks_ordforande", "Kommunstyrelsen"), ("sn_ordforande", "Socialnämnden"),
    ("kommunrevision", "Kommunrevisionen"), ("kommundirektor", "Kommunledningskontoret"),
    ("socialchef", "Socialförvaltningen"), ("ifo_chef", "Socialförvaltningen, individ- och familjeomsorg"),
    ("facklig", "Akademikerförbundet SSR"), ("facklig", "Vision"),
    ("utvecklingsledare", "Regional stödstruktur"),
]
CONTACT_ROLES_DISTRICT = [
    ("sn_ordforande", "Stadsdelsnämnden"), ("socialchef", "Stadsdelsförvaltningen"),
    ("ifo_chef", "Stadsdelsförvaltningen, barn och unga"), ("facklig", "Akademikerförbundet SSR"),
]

# --------------------------------------------------------------------------- events

# (date, kind, title, place, description, organisations by name)
EVENTS = [
    ("2015-03-16", "nationell_dialog", "Nationell dialog om den sociala barn- och ungdomsvården",
     "Stockholm",
     "Dialog med myndigheter och organisationer om uppdragets inriktning och de viktigaste utmaningarna.",
     ["Socialstyrelsen", "Inspektionen för vård och omsorg", "Barnombudsmannen", "Folkhälsomyndigheten",
      "Statens institutionsstyrelse", "Sveriges Kommuner och Landsting", "Länsstyrelserna",
      "Föreningen Sveriges Socialchefer", "Akademikerförbundet SSR", "Vision", "Rädda Barnen",
      "Stiftelsen Allmänna barnhuset"]),
    ("2015-04-22", "samrad", "Samråd med Socialstyrelsen och IVO", "Stockholm",
     "Samråd om tillsynens iakttagelser och pågående kunskapsstöd.",
     ["Socialstyrelsen", "Inspektionen för vård och omsorg"]),
    ("2015-05-27", "hearing", "Hearing om kompetensförsörjning i den sociala barn- och ungdomsvården",
     "Stockholm", "Forskare, professionens organisationer och arbetsgivare om rekrytering och introduktion.",
     ["Föreningen Sveriges Socialchefer", "Akademikerförbundet SSR", "Vision", "Sveriges Kommuner och Landsting",
      "Stiftelsen Allmänna barnhuset"]),
    ("2015-09-30", "rundabord", "Rundabordssamtal med fackförbunden", "Stockholm",
     "Samtal om arbetsmiljö, ärendemängd och lönebildning.",
     ["Akademikerförbundet SSR", "Vision", "Sveriges Kommuner och Landsting"]),
    ("2015-11-18", "hearing", "Hearing om mottagandet av ensamkommande barn och unga", "Stockholm",
     "Hur mottagandet påverkar kommunernas barn- och ungdomsvård.",
     ["Socialstyrelsen", "Länsstyrelserna", "Sveriges Kommuner och Landsting", "Rädda Barnen",
      "Barnombudsmannen"]),
    ("2016-02-10", "samrad", "Samråd med myndigheterna om det första årets iakttagelser", "Stockholm",
     "Gemensam analys av den första besöksomgången.",
     ["Socialstyrelsen", "Inspektionen för vård och omsorg", "Barnombudsmannen", "Folkhälsomyndigheten",
      "Statens institutionsstyrelse", "Sveriges Kommuner och Landsting", "Länsstyrelserna"]),
    ("2016-05-18", "rundabord", "Rundabordssamtal om placerade barns hälsa och skolgång", "Stockholm",
     "Samtal med myndigheter och organisationer om uppföljningen av placerade barn.",
     ["Socialstyrelsen", "Sveriges Kommuner och Landsting", "Rädda Barnen", "Stiftelsen Allmänna barnhuset",
      "Barnombudsmannen"]),
    ("2016-09-21", "konferens", "Konferens med de regionala utvecklingsledarna", "Stockholm",
     "Erfarenheter från den andra besöksomgången och den regionala stödstrukturens roll.",
     ["Sveriges Kommuner och Landsting", "Länsstyrelserna", "Socialstyrelsen"]),
    ("2016-11-23", "samrad", "Samråd inför slutrapporten", "Stockholm",
     "Myndigheternas synpunkter på de förslag som övervägs i slutrapporten.",
     ["Socialstyrelsen", "Inspektionen för vård och omsorg", "Sveriges Kommuner och Landsting",
      "Barnombudsmannen"]),
    ("2017-02-08", "hearing", "Hearing om förslagen i slutrapporten", "Stockholm",
     "Organisationernas synpunkter på slutrapportens förslag.",
     ["Föreningen Sveriges Socialchefer", "Akademikerförbundet SSR", "Vision", "Rädda Barnen",
      "Stiftelsen Allmänna barnhuset"]),
]

# Fallbacks when the shipped register lacks an organisation: (name, short name, kind).
ORGANISATIONS = [
    ("Socialstyrelsen", "", "myndighet"),
    ("Inspektionen för vård och omsorg", "IVO", "myndighet"),
    ("Barnombudsmannen", "BO", "myndighet"),
    ("Folkhälsomyndigheten", "", "myndighet"),
    ("Statens institutionsstyrelse", "SiS", "myndighet"),
    ("Sveriges Kommuner och Landsting", "SKL", "kommunal"),
    ("Länsstyrelserna", "", "myndighet"),
    ("Föreningen Sveriges Socialchefer", "FSS", "forening"),
    ("Akademikerförbundet SSR", "SSR", "fackforbund"),
    ("Vision", "", "fackforbund"),
    ("Rädda Barnen", "", "forening"),
    ("Stiftelsen Allmänna barnhuset", "", "forskning"),
]

# --------------------------------------------------------------------------- measurement

QUESTIONNAIRE_NAME = "Mätning inför besöket"
QUESTIONNAIRE_INTRO = ("Frågorna gäller den sociala barn- och ungdomsvården i er kommun (eller stadsdel) i dag. "
                       "Svaren är underlag för dialogen vid besöket.")
STANDARD = ["Ja", "Ja, i viss mån", "Nej", "Vet ej"]
# (text, kind, required, options, other_option, comment, skip_rules)
QUESTIONS = [
    ("Har socialnämnden fastställt mål för den sociala barn- och ungdomsvården?", "en", True, STANDARD, False,
     True, {}),
    ("Hur många socialsekreterare (årsarbetare) arbetar med barn och unga?", "tal", True, [], False, False, {}),
    ("Hur många av dem har mindre än två års erfarenhet av arbetet?", "tal", False, [], False, False, {}),
    ("Har ni vakanta tjänster för socialsekreterare inom barn och unga?", "en", True, ["Ja", "Nej"], False,
     False, {"Nej": 6}),
    ("Hur hanterar ni vakanserna?", "flera", False,
     ["Inhyrda konsulter", "Omfördelning inom enheten", "Övertid", "Längre handläggningstider"], True, False, {}),
    ("Följer ni systematiskt upp placerade barns hälsa och skolgång?", "en", True, STANDARD, False, True, {}),
    ("Vilka former av samverkan har ni med skolan och hälso- och sjukvården?", "flera", False,
     ["Gemensamma rutiner", "Skriftlig överenskommelse", "Samordnad individuell plan (SIP)",
      "Gemensamma team", "Ingen strukturerad samverkan"], True, False, {}),
    ("Vad vill ni helst ta upp i dialogen med samordnaren?", "text", False, [], False, False, {}),
]
TEXT_ANSWERS = [
    "Personalförsörjningen och hur vi kan behålla erfarna socialsekreterare.",
    "Uppföljningen av placerade barn och samarbetet med skolan.",
    "Hur vi kan få fler egna familjehem.",
    "Hur nämnden kan följa kvaliteten och inte bara ekonomin.",
    "Erfarenheter från andra kommuner av introduktion för nyanställda.",
]
OTHER_ANSWERS = ["Samverkan med grannkommun", "Regelbundna möten med BUP"]
COMMENTS = ["Målen ses över under året.", "Rutinen är ny och ännu inte utvärderad."]

# --------------------------------------------------------------------------- report narratives

NARRATIVE_OBSERVATIONS = [
    "Dialogerna bekräftar att personalförsörjningen är den fråga som präglar barn- och ungdomsvården mest.",
    "Många kommuner beskriver att antalet orosanmälningar ökar snabbare än resurserna.",
    "Tillgången på familjehem är en återkommande svårighet, särskilt i de mindre kommunerna.",
    "Flera kommuner har goda exempel på introduktion av nyanställda som andra kan lära av.",
    "Barnens delaktighet har blivit bättre i enskilda ärenden men används sällan i utvecklingsarbetet.",
]
NARRATIVE_ANALYSIS = [
    "Skillnaderna mellan kommunerna handlar mindre om storlek än om ledningens förmåga att hålla fast vid en "
    "långsiktig plan.",
    "Där aktiviteterna i handlingsplanen beslutades tidigt har de också genomförts; de som inte beslutades har "
    "sällan kommit i gång.",
    "Mindre kommuner är sårbara när enstaka medarbetare slutar, medan de större har svårare med överlämningar "
    "mellan specialiserade enheter.",
    "Den regionala stödstrukturen har betydelse för hur nationella kunskapsstöd når kommunerna.",
]
NARRATIVE_MEASURES = [
    "Samordnaren överväger att föreslå en nationell lägstanivå för introduktion av nyanställda socialsekreterare.",
    "Samordnaren avser att föra en dialog med myndigheterna om en samlad uppföljning av placerade barn.",
    "Samordnaren kommer att lyfta behovet av långsiktig finansiering av den regionala stödstrukturen.",
    "Under nästa kvartal prioriteras de kommuner vars handlingsplaner har aktiviteter som ännu inte beslutats.",
]


# --------------------------------------------------------------------------- avstämningar with the minister

AVSTAMNING_ATTENDEES = ("Statsrådet, Demo Lindqvist (statssekreterare), Demo Berg (samordnare), "
                        "Demo Holm (kansliet)")
# The three latest issued reports are each discussed at an avstämning: (feedback, decisions, actions);
# an action is (title, days from the avstämning to its due date, the outcome once done).
AVSTAMNINGAR = [
    ("Statsrådet uppskattade att rapporten visar både goda exempel och hinder, och efterfrågade mer om hur "
     "barnen själva kommer till tals i utredningarna.",
     "Nästa rapport ska redovisa barnens delaktighet som ett eget tema.",
     [("Sammanställ passagerna om barnens delaktighet ur anteckningarna", 30,
       "Sammanställningen är gjord och ingår i nästa rapports analys."),
      ("Bjud in Barnombudsmannen till ett samråd om barnens delaktighet", 45,
       "Samrådet hölls; Barnombudsmannen deltar också vid den nationella konferensen.")]),
    ("Statsrådet frågade hur de kommuner som saknar beslutade aktiviteter i handlingsplanen följs upp, och "
     "ville veta om bristen på familjehem är lika stor i hela landet.",
     "Samordnaren följer särskilt upp kommuner med obeslutade aktiviteter inför det andra besöket.",
     [("Ta fram en lista över kommuner med obeslutade aktiviteter", 35,
       "Listan är klar och används när de andra besöken planeras."),
      ("Beskriv tillgången på familjehem per län i ett kort underlag", 80, None)]),
    ("Statsrådet ville att slutrapporten tydligt skiljer mellan det kommunerna själva kan göra och det som "
     "kräver nationella åtgärder.",
     "Disposition för slutrapporten tas fram till nästa avstämning.",
     [("Föreslå en disposition för slutrapporten", 50, None)]),
]


# --------------------------------------------------------------------------- the final report's narratives
# Written as the office drafts them in autumn 2016 (the demo's "today"): figures in these texts are counted from
# the demo's own data by demo.content.final_narratives, never written in here.

FINAL_WORK = [
    "Uppdraget har genomförts i dialog med kommunerna. Besöken har varit kärnan: varje besöksplats har fått två "
    "besök, det första för att tillsammans beskriva läget och det andra för att följa upp hur arbetet har gått.",
    "Inför varje besök besvarade kommunen ett kort formulär, så att dialogen kunde börja från samma grund överallt. "
    "Vid besöken träffade samordnaren den politiska ledningen, förvaltningsledningen och i regel även fackliga "
    "företrädare.",
]
FINAL_OBSERVATIONS = [
    "Personalförsörjningen präglar barn- och ungdomsvården i nästan alla kommuner som besöktes. Där "
    "introduktionen av nyanställda är ordnad och ledningen är nära stannar medarbetarna längre.",
    "Kommunerna beskriver ett ökande antal orosanmälningar och en växande andel utredningar som måste göras "
    "snabbare än tidigare. Tillgången på familjehem är en återkommande svårighet.",
    "Barnens delaktighet har blivit bättre i enskilda ärenden men används sällan när verksamheten utvecklas.",
]
FINAL_ANALYSIS = [
    "Skillnaderna mellan kommunerna handlar mindre om storlek än om ledningens förmåga att hålla fast vid en "
    "långsiktig plan. Där aktiviteterna i handlingsplanen beslutades tidigt har de också genomförts.",
    "Mellan den första och den andra omgången har frågorna om styrning och uppföljning flyttat fram; "
    "personalfrågorna ligger kvar som den största utmaningen.",
]
FINAL_CONCLUSIONS = [
    "Den sociala barn- och ungdomsvården behöver ett långsiktigt och samlat stöd, inte fler enskilda projekt.",
    "Nämndens ansvar för kvaliteten behöver stärkas: nämnden ska kunna följa kvaliteten och inte bara ekonomin.",
    "Kommunerna lär av varandra när goda exempel sprids genom den regionala stödstrukturen.",
]
FINAL_PROPOSALS = [
    "Samordnaren föreslår att regeringen ger Socialstyrelsen i uppdrag att ta fram en nationell lägstanivå för "
    "introduktion av nyanställda socialsekreterare.",
    "Samordnaren föreslår en samlad nationell uppföljning av placerade barn, i samverkan mellan myndigheterna.",
    "Samordnaren föreslår att den regionala stödstrukturen för barn och unga får en långsiktig finansiering.",
]

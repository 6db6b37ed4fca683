000010*----------------------------------------------------------------
000020* 住民ファイル JUMIN.DAT（合成データ） RECFM=FB LRECL=320  IBM 930
000030* 漢字氏名は PIC G（シフトコードなしの DBCS）、カナは EBCDIK 半角
000040*----------------------------------------------------------------
000050 01  JUMIN-HDR.
000060     05  REC-KBN            PIC X       VALUE 'H'.
000070     05  SAKUSEI-YMD        PIC 9(8).
000080     05  FILLER             PIC X(311).
000090 01  JUMIN-DATA.
000100     05  REC-KBN            PIC X       VALUE 'D'.
000110     05  ATENA-NO           PIC 9(15).
000120     05  SETAI-NO           PIC 9(15).
000130     05  JUMINHYO-CD        PIC 9(11).
000140     05  KOJIN-NO           PIC 9(12).
000150     05  SHIMEI             PIC G(20).
000160     05  SHIMEI-KANA        PIC X(30).
000170     05  BIRTH-GENGO        PIC X.
000180     05  BIRTH-YMD          PIC X(6).
000190     05  SEIBETSU           PIC X.
000200     05  ZOKUGARA           PIC X(2).
000210     05  JUMIN-SHU          PIC X.
000220     05  JOTAI              PIC X.
000230     05  YUBIN-NO           PIC X(7).
000240     05  JUSHO              PIC X(80).
000250     05  KATAGAKI           PIC X(40).
000260     05  JUTEI-GENGO        PIC X.
000270     05  JUTEI-YMD          PIC X(6).
000280*   異動履歴: 古い順に3件まで（空きは空白）
000290     05  IDO                OCCURS 3 TIMES.
000300         10  IDO-JIYU       PIC X(3).
000310         10  IDO-YMD        PIC X(8).
000320     05  KISAI-JUN          PIC 9(2).
000330     05  FILLER             PIC X(15).
000340 01  JUMIN-TRL.
000350     05  REC-KBN            PIC X       VALUE 'T'.
000360     05  KENSU              PIC 9(9).
000370     05  FILLER             PIC X(310).
